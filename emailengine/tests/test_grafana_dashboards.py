"""deploy/grafana: provisioned dashboards load, and every query uses metrics /metrics really serves."""

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

GRAFANA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
EXPECTED = {"fleet-overview.json", "per-ip.json", "per-tenant.json", "pipeline-health.json"}

# Series other software writes: django-prometheus and the Python client, Prometheus itself (up, scrape_*),
# and the scheduled-job metrics, which only appear once a job has run.
ALLOWED_PREFIXES = ("django_", "process_", "python_", "scrape_", "emailengine_job_")
ALLOWED_NAMES = {"up"}

PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
    "inf", "nan",
}  # fmt: skip
GRAFANA_VARS = {"$ip": "192.0.2.1", "$tenant": "tenant-a", "$server": "pmta-1", "$job": ".*"}


def _panels(board: dict) -> list[dict]:
    out = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows keep their panels inside
    return out


def _exprs(board: dict) -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in _panels(board) for t in p.get("targets", []) if t.get("expr")]


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers other than functions, keywords, labels, strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    names = set()
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in PROMQL_WORDS:
            continue
        names.add(name)
    return names


def test_it_extracts_metric_names_from_promql():
    expr = (
        'sum by (tenant) (increase(emailengine_tenant_bounces_total{tenant="$tenant"}[1h])) '
        "/ on(job) group_left() emailengine_job_interval_seconds > bool 2 "
        'or label_replace(emailengine_ip_info, "target", "$1", "ip", "(.*)")'
    )
    assert metric_names(expr) == {
        "emailengine_tenant_bounces_total",
        "emailengine_job_interval_seconds",
        "emailengine_ip_info",
    }


def test_it_ships_the_four_dashboards_and_their_provisioning():
    assert {path.name for path in DASHBOARDS} == EXPECTED
    provider = (GRAFANA_DIR / "provisioning" / "dashboards" / "dashboards.yml").read_text()
    assert "path: /etc/grafana/dashboards" in provider
    datasource = (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    assert "uid: prometheus" in datasource and "url: http://prometheus:9090" in datasource


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_it_has_a_valid_dashboard(path):
    board = json.loads(path.read_text())
    assert board["uid"].startswith("emailengine-") and board["title"]
    assert 36 <= board["schemaVersion"] <= 41
    assert board.get("id") is None  # provisioning assigns ids; a fixed one would clash
    panels = _panels(board)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert {"type", "title", "gridPos"} <= panel.keys()
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs))
    used_vars = {v for _, expr in _exprs(board) for v in re.findall(r"\$[a-z]+", expr)}
    defined = {"$" + var["name"] for var in board["templating"]["list"]}
    assert used_vars <= defined, f"undefined variables {used_vars - defined}"
    for var in board["templating"]["list"]:
        assert var["query"]["query"].startswith("label_values(emailengine_")


def test_it_has_the_ip_tenant_and_server_variables():
    variables = {
        path.name: {v["name"] for v in json.loads(path.read_text())["templating"]["list"]}
        for path in DASHBOARDS
    }
    assert "ip" in variables["per-ip.json"]
    assert "tenant" in variables["per-tenant.json"]
    assert "server" in variables["fleet-overview.json"]


@pytest.fixture
def served_names(client, tenant_a, settings) -> set[str]:
    """Every metric name /metrics serves after a little data exists (families with no samples count)."""
    from campaigns.models import DailyStat
    from domains.models import DomainCheck, SendingDomain
    from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory

    settings.CELERY_BROKER_URL = "filesystem://"
    server = MtaServerFactory(name="pmta-1", health_up=True, health_queued_rcp=5, health_smtp_out_conn=2)
    IPAddressFactory(address="192.0.2.1", pool=IPPoolFactory(server=server, tenant=tenant_a), server=server)
    domain = SendingDomain.objects.create(
        tenant=tenant_a, name="a.example.com", return_path_domain="b.example.com"
    )
    DomainCheck.objects.create(domain=domain, name="spf", status="ok")
    DailyStat.objects.create(
        day=datetime.now(UTC).date(),
        source_ip="192.0.2.1",
        tenant=tenant_a,
        delivered=5,
        bounce_categories={"x": 1},
    )
    client.post("/hooks/pmta/accounting", "", content_type="text/csv")  # a 401: creates a webhook series
    body = client.get("/metrics").content.decode()
    names = set()
    for family in text_string_to_metric_families(body):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


@pytest.mark.django_db
def test_it_only_queries_metrics_that_exist(served_names):
    assert "emailengine_webhook_requests_total" in served_names
    unknown = []
    for path in DASHBOARDS:
        for title, expr in _exprs(json.loads(path.read_text())):
            for name in metric_names(expr):
                if name in served_names or name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES):
                    continue
                unknown.append(f"{path.name} / {title}: {name}")
    assert not unknown, "queries use metrics that /metrics does not serve:\n" + "\n".join(unknown)


def test_it_has_promql_that_parses(tmp_path):
    """Each query, with Grafana variables filled in, must be valid PromQL: promtool checks it as a rule."""
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package prometheus)")
    rules = []
    for path in DASHBOARDS:
        for n, (_title, expr) in enumerate(_exprs(json.loads(path.read_text()))):
            for var, value in GRAFANA_VARS.items():
                expr = expr.replace(var, value)
            rules.append({"record": f"dashboard:{path.stem.replace('-', '_')}:{n}", "expr": expr})
    rules_file = tmp_path / "dashboards.rules.yml"
    rules_file.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))  # JSON is YAML
    result = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
