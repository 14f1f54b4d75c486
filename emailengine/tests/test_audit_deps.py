"""scripts/audit_deps.py (CI's advisory check) against a local stand-in of PyPI's JSON API."""

import json
import subprocess
import sys
from pathlib import Path

from testsupport.canned_http import CannedReply, canned_http

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit_deps.py"

PYPROJECT = """
[project]
name = "x"
version = "1"
dependencies = ["Django==6.0.10", "celery[redis]==5.7.0"]
[project.optional-dependencies]
dev = ["pytest==9.2.0"]
"""
ADVISORY = {
    "id": "PYSEC-2026-1",
    "aliases": ["CVE-2026-0001"],
    "fixed_in": ["6.0.11"],
    "withdrawn": None,
    "summary": "x",
}


def doc(version: str, vulns: list | None = None) -> CannedReply:
    body = {"info": {"version": version}, "vulnerabilities": vulns or []}
    return CannedReply(body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def run(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--index-url", url, "--pyproject", str(pyproject), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_fails_on_an_advisory_for_a_pinned_release(tmp_path):
    routes = {
        "/pypi/django/6.0.10/json": doc("6.0.10", [ADVISORY]),
        "/pypi/celery/5.7.0/json": doc("5.7.0"),
        "/pypi/pytest/9.2.0/json": doc("9.2.0", [{**ADVISORY, "id": "OLD", "withdrawn": "2026-01-01"}]),
    }
    with canned_http(CannedReply(status=404), routes) as index:
        result = run(tmp_path, index.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "VULNERABLE django==6.0.10: PYSEC-2026-1 (CVE-2026-0001); fixed in 6.0.11" in result.stdout
    assert "OLD" not in result.stdout  # a withdrawn advisory does not count


def test_without_release_documents_it_checks_pins_that_are_the_latest_release(tmp_path):
    routes = {
        "/pypi/django/json": doc("6.1.3", [ADVISORY]),  # about 6.1.3, not about our pin
        "/pypi/celery/json": doc("5.7.0"),
        "/pypi/pytest/json": doc("9.2.0"),
    }
    with canned_http(CannedReply(status=404), routes) as index:
        result = run(tmp_path, index.url, "--json")
        strict = run(tmp_path, index.url, "--strict")
    summary = json.loads(result.stdout)
    assert result.returncode == 0 and (summary["vulnerable"], summary["unchecked"]) == (0, 1)
    assert strict.returncode == 2 and "not checked django==6.0.10" in strict.stdout


def test_an_unreachable_index_is_a_failure_not_a_pass(tmp_path):
    result = run(tmp_path, "http://127.0.0.1:9")
    assert result.returncode == 2 and "cannot ask" in result.stderr
