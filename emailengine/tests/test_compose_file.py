"""docker-compose.yml: the stack has every service, and each long-running one has a health check."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"

REQUIRED = {"postgres", "redis", "migrate", "web", "beat", "flower", "prometheus", "grafana"}
# One-shot services exit when done, so there is nothing to health-check: others wait for them with
# `condition: service_completed_successfully` instead.
ONE_SHOT = {"migrate": "runs the migrations once and exits"}


def _blocks(lines: list[str], indent: int) -> dict[str, list[str]]:
    """Mapping keys at exactly ``indent`` spaces and the lines under each (a tiny YAML-shape reader)."""
    blocks: dict[str, list[str]] = {}
    current = None
    key = re.compile(rf"^ {{{indent}}}([A-Za-z0-9_.-]+):")
    for line in lines:
        match = key.match(line)
        if match:
            current = match.group(1)
            blocks[current] = [line]
        elif current is not None and (
            not line.strip() or line.startswith(" " * (indent + 1)) or line.lstrip().startswith("#")
        ):
            blocks[current].append(line)
        elif line.strip() and not line.startswith(" " * (indent + 1)):
            current = None
    return blocks


def _text_services() -> dict[str, str]:
    """Each service's text with the anchors it merges (<<: *name) appended, so inherited keys count."""
    lines = COMPOSE.read_text().splitlines()
    top = _blocks(lines, 0)
    anchors = {}
    for block in top.values():
        match = re.match(r"^[\w-]+:\s*&([\w-]+)", block[0])
        if match:
            anchors[match.group(1)] = "\n".join(block)
    # Anchors can merge other anchors (x-worker merges x-app).
    for _ in range(3):
        for name, text in anchors.items():
            for ref in re.findall(r"<<:\s*\*([\w-]+)", text):
                if ref != name and anchors[ref] not in text:
                    anchors[name] = text + "\n" + anchors[ref]
    services = _blocks(top["services"][1:], 2)
    out = {}
    for name, block in services.items():
        text = "\n".join(block)
        for ref in re.findall(r"<<:\s*\*([\w-]+)", text):
            text += "\n" + anchors[ref]
        out[name] = text
    return out


def _has_workers(names: set[str]) -> bool:
    return any(name == "worker" or name.startswith("worker-") for name in names)


def test_it_has_the_whole_stack_with_health_checks():
    services = _text_services()
    assert set(services) >= REQUIRED, f"missing: {REQUIRED - set(services)}"
    assert _has_workers(set(services)), "no Celery worker service"
    assert len(services) >= 9
    for name, text in services.items():
        if name in ONE_SHOT:
            assert 'restart: "no"' in text, f"{name} is one-shot and must not restart"
            continue
        assert "healthcheck:" in text, f"service {name} has no healthcheck"


def test_it_wires_prometheus_and_grafana_to_the_checked_in_config():
    services = _text_services()
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]
    assert "/-/ready" in services["prometheus"]
    grafana = services["grafana"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    assert "./deploy/grafana/dashboards:/etc/grafana/dashboards:ro" in grafana
    assert "${GRAFANA_ADMIN_PASSWORD:?" in grafana  # required: no default admin password
    assert "/api/health" in grafana


def test_it_parses_as_yaml_with_health_checks_after_merges():
    yaml = pytest.importorskip(
        "yaml", reason="PyYAML is not installed in this environment (not a dependency)"
    )
    data = yaml.safe_load(COMPOSE.read_text())
    services = data["services"]
    assert set(services) >= REQUIRED
    assert _has_workers(set(services))
    for name, service in services.items():
        if name in ONE_SHOT:
            continue
        assert service.get("healthcheck", {}).get("test"), f"service {name} has no healthcheck"
    assert {"promdata", "grafanadata"} <= set(data["volumes"])


def test_it_is_accepted_by_docker_compose_config(tmp_path):
    """`docker compose config` where the compose plugin (or docker-compose) is installed."""
    command = None
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            command = ["docker", "compose"]
    if command is None and shutil.which("docker-compose"):
        command = ["docker-compose"]
    if command is None:
        pytest.skip("neither the docker compose plugin nor docker-compose is installed")
    # The services read .env (env_file), which is not in git: validate from a directory that has one.
    (tmp_path / ".env").write_text("")
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "POSTGRES_PASSWORD": "x", "GRAFANA_ADMIN_PASSWORD": "x"}
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "--project-directory", str(tmp_path), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    # Grafana's admin password is required: the stack refuses to start with a default one.
    del env["GRAFANA_ADMIN_PASSWORD"]
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "--project-directory", str(tmp_path), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in result.stdout + result.stderr
