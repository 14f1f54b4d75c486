"""deploy/pmta/ee-agent run for real against the live app, with a fake `pmta` that records its arguments and
can fail a reload the way PMTA does (non-zero exit, an error on its output; UG5 6.3.4)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.models import AuditEvent
from domains.services import domain_create
from ips import services
from ips.models import IPAddress, IPPool, IPStatus, MtaServer, PmtaCommand
from ips.selectors import server_config_state

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "pmta" / "ee-agent"
VMTAS = "emailengine-vmtas.conf"

FAKE_PMTA = """#!{python}
import json, pathlib, sys
here = pathlib.Path(__file__).parent
with open(here / "pmta-calls.jsonl", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:] == ["reload"] and (here / "fail-reload").exists():
    print("error in /etc/pmta/config: line 7: unknown directive")
    sys.exit(1)
print({{"reload": "Configuration reloaded.", "pause": "Queue(s) paused.", "resume": "Queue(s) resumed."}}
      .get(sys.argv[1], "ok"))
"""


class Host:
    """One PMTA host: its config dir, token file and fake pmta; runs the agent once."""

    def __init__(self, root: Path, url: str, token: str, python: str = sys.executable) -> None:
        self.root = root
        self.url = url
        self.python = python
        self.config_dir = root / "etc"
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        self.pmta = self.bin / "pmta"
        self.pmta.write_text(FAKE_PMTA.format(python=sys.executable))
        self.pmta.chmod(0o755)
        self.token_file = root / "token"
        self.token_file.write_text(token + "\n")

    def run(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                self.python,
                str(SCRIPT),
                "--url",
                self.url,
                "--token-file",
                str(self.token_file),
                "--config-dir",
                str(self.config_dir),
                "--pmta",
                str(self.pmta),
                "--once",
            ],
            capture_output=True,
            timeout=60,
            text=True,
        )

    def calls(self) -> list[list[str]]:
        path = self.bin / "pmta-calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def fail_reloads(self, fail: bool = True) -> None:
        flag = self.bin / "fail-reload"
        if fail:
            flag.write_text("1")
        else:
            flag.unlink(missing_ok=True)

    def files(self) -> dict[str, str]:
        return {
            str(p.relative_to(self.config_dir)): p.read_text()
            for p in sorted(self.config_dir.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        }


@pytest.fixture
def fleet(db, settings, tmp_path, live_server, tenant_a):
    settings.PMTA_INCLUDE_DIR = str(tmp_path / "host" / "etc")
    server, token = services.server_create(
        name="pmta-live", hostname="pmta-live.example.net", by="system: test"
    )
    pool = IPPool.objects.create(name="live-pool", server=server, tenant=tenant_a)
    ips = services.ips_bulk_add(
        server=server, addresses=["192.0.2.30", "192.0.2.31"], by="system: test", pool=pool
    )
    for ip in ips:
        services.ip_set_status(ip=ip, to=IPStatus.ACTIVE, by="system: test")
    domain_create(
        tenant=tenant_a,
        name="alpha.example",
        by="system: test",
        key_bits=1024,
        selector="s1",
        skip_verification=True,
    )
    host = Host(tmp_path / "host", live_server.url, token)
    return server, host, ips


def _vmta_block(text: str, vmta: str) -> str:
    start = text.index(f"<virtual-mta {vmta}>")
    return text[start : text.index("</virtual-mta>", start)]


pytestmark = pytest.mark.django_db(transaction=True)


def test_it_writes_the_bundle_reloads_and_reports_then_leaves_an_unchanged_config_alone(fleet):
    server, host, _ips = fleet
    result = host.run()
    assert result.returncode == 0, result.stderr
    assert host.calls() == [["reload"]]
    files = host.files()
    assert sorted(files) == [
        "dkim/alpha.example.s1.pem",
        "emailengine-backoff.conf",
        "emailengine-dkim.conf",
        "emailengine-vmtas.conf",
        "emailengine.conf",
    ]
    assert (host.config_dir / "dkim/alpha.example.s1.pem").stat().st_mode & 0o777 == 0o600
    assert (host.config_dir / VMTAS).stat().st_mode & 0o777 == 0o644
    assert f"include {host.config_dir}/{VMTAS}" in files["emailengine.conf"]
    state = server_config_state(server)
    assert state.in_sync and state.applied_version == 1
    server.refresh_from_db()
    assert server.agent_info.startswith("ee-agent/")

    again = host.run()
    assert again.returncode == 0, again.stderr
    assert host.calls() == [["reload"]]  # nothing changed: no second reload
    assert "unchanged" in again.stderr


def test_a_pause_in_the_ui_reaches_pmta_on_the_next_run_as_a_command_and_in_the_config(
    fleet, operator, client
):
    server, host, ips = fleet
    assert host.run().returncode == 0
    client.force_login(operator)
    ip = ips[0]
    response = client.post(f"/ips/{ip.pk}/status/", {"to": "paused", "reason": "spam trap hits"})
    assert response.status_code == 302
    assert IPAddress.objects.get(pk=ip.pk).status == IPStatus.PAUSED

    result = host.run()
    assert result.returncode == 0, result.stderr
    # The config first (a later reload never undoes the pause), then the command (UG5 6.3.23).
    assert host.calls()[1:] == [["reload"], ["pause", "queue", f"*/{ip.vmta_name}"]]
    vmtas = host.files()[VMTAS]
    assert "    max-smtp-msg-rate 0\n" in _vmta_block(vmtas, ip.vmta_name)
    assert f"    virtual-mta {ip.vmta_name}\n" not in vmtas  # new pool mail goes to the other IP
    assert f"    virtual-mta {ips[1].vmta_name}\n" in vmtas
    command = PmtaCommand.objects.get(server=server)
    assert (command.status, command.exit_code, command.output) == ("ok", 0, "Queue(s) paused.")
    state = server_config_state(server)
    assert state.in_sync and state.applied_version == 2 and state.pending_commands == 0

    client.post(f"/ips/{ip.pk}/status/", {"to": "resume", "reason": "delisted"})
    assert host.run().returncode == 0
    assert host.calls()[-2:] == [["reload"], ["resume", "queue", f"*/{ip.vmta_name}"]]
    assert f"    virtual-mta {ip.vmta_name}\n" in host.files()[VMTAS]
    assert server_config_state(server).in_sync


def test_a_failed_reload_puts_the_previous_files_back_and_reports_pmtas_output(fleet, tenant_a):
    server, host, ips = fleet
    assert host.run().returncode == 0
    before = host.files()

    services.ip_set_limits(ip=ips[0], by="system: test", daily=700, hourly=None)
    domain_create(
        tenant=tenant_a,
        name="beta.example",
        by="system: test",
        key_bits=1024,
        selector="s1",
        skip_verification=True,
    )
    host.fail_reloads()
    result = host.run()
    assert result.returncode == 1
    assert host.calls() == [["reload"], ["reload"]]
    assert host.files() == before  # v1 back in place; v2's new key file is gone again
    server.refresh_from_db()
    assert server.config_applied_version == 1
    assert "pmta reload exited 1" in server.agent_last_error
    assert "line 7: unknown directive" in server.agent_last_error
    event = AuditEvent.objects.get(action="server.config_apply_failed")
    assert event.after["version"] == 2 and "unknown directive" in event.after["output"]
    assert server_config_state(server).drift

    # The same broken version is not reloaded again on every run ...
    assert host.run().returncode == 1
    assert host.calls() == [["reload"], ["reload"]]
    # ... and a new version (the operator fixed the limit) is tried, and applies once PMTA accepts it.
    host.fail_reloads(False)
    services.ip_set_limits(ip=ips[0], by="system: test", daily=900, hourly=None)
    assert host.run().returncode == 0
    assert "max-smtp-msg-rate 900/d" in host.files()[VMTAS]
    assert "dkim/beta.example.s1.pem" in host.files()
    server.refresh_from_db()
    assert server.agent_last_error == "" and server_config_state(server).in_sync


def test_another_servers_token_gets_only_that_servers_files(fleet, tmp_path, tenant_b):
    server, host, _ips = fleet
    other, token = services.server_create(name="pmta-other", by="system: test")
    pool = IPPool.objects.create(name="other-pool", server=other, tenant=tenant_b)
    services.ips_bulk_add(server=other, addresses=["198.51.100.7"], by="system: test", pool=pool)
    other_host = Host(tmp_path / "other", host.url, token)
    other_host.config_dir = host.config_dir  # same include dir setting; a separate machine in real life
    shutil.rmtree(host.config_dir, ignore_errors=True)
    assert other_host.run().returncode == 0
    text = "".join(other_host.files().values())
    assert "vmta-198-51-100-7" in text
    assert "192.0.2.30" not in text and "alpha.example" not in text and "PRIVATE KEY" not in text
    assert MtaServer.objects.get(pk=server.pk).config_applied_version is None


def test_it_runs_only_holds_and_releases_never_a_command_that_could_lose_mail(fleet):
    server, host, _ips = fleet
    bad = PmtaCommand.objects.create(server=server, args=["delete", "--queue=*/*"], created_by="t")
    result = host.run()
    assert result.returncode == 1
    assert host.calls() == [["reload"]]  # the delete never reached pmta
    bad.refresh_from_db()
    assert bad.status == "failed" and bad.output.startswith("refused")


def _pythons() -> list[str]:
    """Every Python 3.8+ on this machine that runs: PMTA hosts have the distribution's python3."""
    candidates = {
        sys.executable,
        *glob.glob("/usr/bin/python3.*"),
        *glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")),
    }
    for minor in range(8, 14):
        if path := shutil.which(f"python3.{minor}"):
            candidates.add(path)
    found = {}
    for path in sorted(candidates):
        if not os.access(path, os.X_OK) or path.endswith("-config"):
            continue
        probe = subprocess.run(
            [
                path,
                "-c",
                "import sys; print('%d.%d' % sys.version_info[:2]); assert sys.version_info >= (3, 8)",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if probe.returncode == 0:
            found.setdefault(probe.stdout.strip(), path)
    return [found[v] for v in sorted(found, key=lambda v: tuple(map(int, v.split("."))))]


ACCT_WEBHOOK = SCRIPT.parent / "acct-webhook"


@pytest.mark.parametrize("python", _pythons())
def test_it_runs_on_each_python3_on_the_host(fleet, python):
    """Standard library only, and on the same Pythons as acct-webhook: the PMTA host's own python3 runs it."""
    _server, host, _ips = fleet
    for script in (SCRIPT, ACCT_WEBHOOK):
        assert (
            subprocess.run([python, str(script), "--help"], capture_output=True, timeout=30).returncode == 0
        )
    host.python = python
    result = host.run()
    assert result.returncode == 0, result.stderr
    assert host.calls() == [["reload"]]


@pytest.mark.browser
def test_a_pause_clicked_in_the_browser_is_live_on_pmta_after_the_next_run(fleet, page, django_user_model):
    server, host, ips = fleet
    django_user_model.objects.create_user(username="ops", password="ops-password-1", is_staff=True)
    assert host.run().returncode == 0
    ip = ips[0]

    page.goto(f"{host.url}/accounts/login/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "ops-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Fleet overview")
    page.goto(f"{host.url}/ips/")
    page.check(f"#ip-row-{ip.pk} input[name=ids]")
    page.select_option("select[name=action]", "pause")
    page.fill("#bulk-form input[name=reason]", "Outlook blocks")
    page.on("dialog", lambda d: d.accept())
    page.click("#bulk-form button[type=submit]")
    page.locator(f"#ip-row-{ip.pk} .ip-status").get_by_text("paused").wait_for()

    result = host.run()
    assert result.returncode == 0, result.stderr
    assert host.calls()[-2:] == [["reload"], ["pause", "queue", f"*/{ip.vmta_name}"]]
    assert "    max-smtp-msg-rate 0\n" in _vmta_block(host.files()[VMTAS], ip.vmta_name)

    page.goto(f"{host.url}/servers/{server.pk}/")
    card = page.inner_text("#server-config")
    assert "in sync" in card and f"pmta pause queue */{ip.vmta_name}" in card and "done" in card
