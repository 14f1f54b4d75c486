"""deploy/prometheus: the scrape config and alert rules are valid, and the rules' unit tests pass."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "rules" / "emailengine.rules.yml"
RULE_TESTS = PROMETHEUS_DIR / "rules" / "emailengine.rules.test.yml"

REQUIRED_ALERTS = (
    "EmailEngineMtaDown",
    "EmailEngineIPListedOnCriticalList",
    "EmailEngineBounceRateHigh",
    "EmailEngineComplaintRateHigh",
    "EmailEngineWarmupPaused",
    "EmailEngineAccountingImportLag",
    "EmailEngineScheduledJobLate",
    "EmailEnginePmtaConfigDrift",
    "EmailEnginePmtaAgentSilent",
)


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.skip("promtool not installed (Debian package prometheus)")
    return path


def run(promtool: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def test_it_has_valid_alert_rules(promtool):
    run(promtool, "check", "rules", str(RULES))


def test_it_has_a_valid_scrape_config_that_loads_the_rules(promtool):
    result = run(promtool, "check", "config", str(CONFIG))
    assert "1 rule files found" in result.stdout + result.stderr


def test_it_passes_the_rule_unit_tests(promtool):
    # Among them: EmailEngineMtaDown is pending, not firing, before its for: time and fires after it.
    run(promtool, "test", "rules", str(RULE_TESTS))


def test_it_defines_every_required_alert_with_severity_and_annotations():
    # Plain text checks (no YAML parser needed): each alert has for:, a severity and both annotations.
    text = RULES.read_text()
    blocks = text.split("- alert: ")[1:]
    by_name = {block.split("\n", 1)[0].strip(): block for block in blocks}
    for name in REQUIRED_ALERTS:
        assert name in by_name, f"missing alert {name}"
    for name, block in by_name.items():
        assert "\n        for: " in block, f"{name} has no for: duration"
        assert "severity: " in block, f"{name} has no severity label"
        assert "summary: " in block and "description: " in block, f"{name} lacks summary/description"


def test_it_scrapes_the_compose_web_service_every_30_seconds():
    text = CONFIG.read_text()
    assert 'targets: ["web:8000"]' in text
    assert "metrics_path: /metrics" in text
    assert "scrape_interval: 30s" in text


def test_the_silent_agent_alert_uses_the_dashboards_threshold():
    from ips.selectors import AGENT_SILENT_AFTER_S

    block = RULES.read_text().split("- alert: EmailEnginePmtaAgentSilent", 1)[1].split("- alert:", 1)[0]
    assert f"emailengine_pmta_agent_last_seen_timestamp_seconds > {AGENT_SILENT_AFTER_S})" in block
