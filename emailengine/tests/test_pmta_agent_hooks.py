"""GET /hooks/pmta/config and POST /hooks/pmta/applied: server-token auth, one server's bundle only, DKIM keys
only for the domains that server signs, versions, pending commands and the agent's reports."""

import json

import pytest

from core.models import AuditEvent
from domains.services import domain_create
from ips import services
from ips.models import IPAddress, IPPool, IPStatus, MtaServer, PmtaCommand
from ips.selectors import server_config_state

pytestmark = pytest.mark.django_db

CONFIG = "/hooks/pmta/config"
APPLIED = "/hooks/pmta/applied"


def _server(name: str, tenant, address: str) -> tuple[MtaServer, str, IPAddress]:
    server, token = services.server_create(name=name, hostname=f"{name}.example.net", by="system: test")
    pool = IPPool.objects.create(name=f"{name}-pool", server=server, tenant=tenant)
    (ip,) = services.ips_bulk_add(server=server, addresses=[address], by="system: test", pool=pool)
    services.ip_set_status(ip=ip, to=IPStatus.WARMING, by="system: test")
    return server, token, ip


@pytest.fixture
def fleet(tenant_a, tenant_b):
    a = _server("pmta-a", tenant_a, "192.0.2.10")
    b = _server("pmta-b", tenant_b, "192.0.2.20")
    domain_create(
        tenant=tenant_a,
        name="alpha.example",
        by="system: test",
        key_bits=1024,
        selector="s1",
        skip_verification=True,
    )
    domain_create(
        tenant=tenant_b,
        name="beta.example",
        by="system: test",
        key_bits=1024,
        selector="s1",
        skip_verification=True,
    )
    return a, b


def _get(client, token):
    return client.get(CONFIG, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_USER_AGENT="ee-agent/1 test-host")


def _post(client, token, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(APPLIED, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_it_refuses_requests_without_a_valid_token(client, fleet):
    for response in (
        client.get(CONFIG),
        client.get(CONFIG, HTTP_AUTHORIZATION="Bearer nope"),
        client.post(APPLIED, "{}", content_type="application/json"),
        _post(client, "ee_wrong", {"version": 1, "status": "applied"}),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_reads_only_its_own_servers_bundle(client, fleet):
    (a, token_a, ip_a), (_b, token_b, ip_b) = fleet
    bundle = _get(client, token_a).json()
    assert bundle["server"] == "pmta-a"
    text = "".join(bundle["files"].values())
    assert ip_a.vmta_name in text and ip_b.vmta_name not in text
    # DKIM private keys only for the domains this server signs (tenant A's), written under dkim/.
    assert list(bundle["secret_files"]) == ["dkim/alpha.example.s1.pem"]
    assert "PRIVATE KEY" in bundle["secret_files"]["dkim/alpha.example.s1.pem"]
    assert "beta.example" not in json.dumps(bundle)
    # Naming the other server changes nothing: the token decides.
    assert client.get(CONFIG + "?server=pmta-b", HTTP_AUTHORIZATION=f"Bearer {token_a}").json()["server"] == (
        "pmta-a"
    )
    assert _get(client, token_b).json()["server"] == "pmta-b"
    a.refresh_from_db()
    assert a.agent_last_seen is not None and a.agent_info == "ee-agent/1 test-host"


def test_the_version_changes_exactly_when_the_render_changes(client, fleet):
    (_a, token_a, ip_a), _ = fleet
    first = _get(client, token_a).json()
    assert _get(client, token_a).json()["version"] == first["version"]
    services.ip_set_limits(ip=ip_a, by="system: test", daily=500, hourly=None)
    second = _get(client, token_a).json()
    assert second["version"] == first["version"] + 1
    assert "max-smtp-msg-rate 500/d" in second["files"]["emailengine-vmtas.conf"]


def test_a_pause_becomes_a_held_vmta_and_a_command_whose_result_is_recorded(client, fleet):
    (a, token_a, ip_a), _ = fleet
    services.ip_pause(ip=ip_a, by="system: test", reason="listed on zen")
    bundle = _get(client, token_a).json()
    assert bundle["held_vmtas"] == [ip_a.vmta_name]
    # Only the pause: new -> warming in the fixture released nothing we had paused.
    [command] = bundle["commands"]
    assert command["args"] == ["pause", "queue", f"*/{ip_a.vmta_name}"]
    assert "max-smtp-msg-rate 0" in bundle["files"]["emailengine-vmtas.conf"]

    response = _post(
        client,
        token_a,
        {
            "version": bundle["version"],
            "status": "applied",
            "commands": [{"id": command["id"], "exit_code": 0, "output": "Queue(s) paused."}],
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "desired_version": bundle["version"],
        "applied_version": bundle["version"],
        "commands_recorded": 1,
    }
    done = PmtaCommand.objects.get(pk=command["id"])
    assert (done.status, done.exit_code, done.output) == ("ok", 0, "Queue(s) paused.")
    assert _get(client, token_a).json()["commands"] == []
    state = server_config_state(a)
    assert state.in_sync and state.applied_at is not None and not state.last_error
    assert AuditEvent.objects.filter(action="server.config_applied", object_id=str(a.pk)).count() == 1
    assert AuditEvent.objects.get(action="server.pmta_command").after["command"] == (
        f"pmta pause queue */{ip_a.vmta_name}"
    )

    services.ip_resume(ip=ip_a, by="system: test")
    assert [c["args"] for c in _get(client, token_a).json()["commands"]] == [
        ["resume", "queue", f"*/{ip_a.vmta_name}"]
    ]


def test_a_failed_reload_keeps_the_applied_version_and_records_pmtas_output(client, fleet):
    (a, token_a, ip_a), _ = fleet
    v1 = _get(client, token_a).json()["version"]
    assert _post(client, token_a, {"version": v1, "status": "applied"}).status_code == 200
    services.ip_set_limits(ip=ip_a, by="system: test", daily=800, hourly=None)
    v2 = _get(client, token_a).json()["version"]
    report = {"version": v2, "status": "failed", "error": "pmta reload exited 1", "output": "error in line 7"}
    assert _post(client, token_a, report).json()["applied_version"] == v1
    a.refresh_from_db()
    assert a.config_applied_version == v1
    assert "version 2: pmta reload exited 1" in a.agent_last_error and "error in line 7" in a.agent_last_error
    state = server_config_state(a)
    assert state.drift and state.label == "failed"
    # The same failure reported again is not a new audit event.
    _post(client, token_a, report)
    failed = AuditEvent.objects.filter(action="server.config_apply_failed", object_id=str(a.pk))
    assert failed.count() == 1 and failed.get().after["output"] == "error in line 7"
    # A later success clears the error.
    _post(client, token_a, {"version": v2, "status": "applied"})
    a.refresh_from_db()
    assert a.config_applied_version == v2 and a.agent_last_error == ""


def test_it_refuses_bad_reports_and_other_servers_commands(client, fleet):
    (_a, token_a, _ip_a), (b, _token_b, ip_b) = fleet
    services.ip_pause(ip=ip_b, by="system: test", reason="x")
    other = PmtaCommand.objects.get(server=b)
    version = _get(client, token_a).json()["version"]
    for body, reason in [
        ("not json", "Expecting value"),
        ([], "JSON object"),
        ({"version": version, "status": "maybe"}, "status must be"),
        ({"version": 99, "status": "applied"}, "never rendered"),
        ({"version": "1", "status": "applied"}, "positive integer"),
    ]:
        response = _post(client, token_a, body)
        assert response.status_code == 400 and reason in response.json()["error"], body
    response = _post(
        client,
        token_a,
        {"version": version, "status": "applied", "commands": [{"id": other.pk, "exit_code": 0}]},
    )
    assert response.json()["commands_recorded"] == 0
    other.refresh_from_db()
    assert other.status == "pending"
    assert client.get(APPLIED, HTTP_AUTHORIZATION=f"Bearer {token_a}").status_code == 405


def test_the_server_page_and_the_home_page_show_the_delivery_state(client, fleet, login, operator):
    (a, token_a, ip_a), _ = fleet
    version = _get(client, token_a).json()["version"]
    _post(
        client,
        token_a,
        {"version": version, "status": "failed", "error": "pmta reload exited 1", "output": "bad"},
    )
    services.ip_pause(ip=ip_a, by="system: test", reason="listed")
    operator_client = login(operator)
    page = operator_client.get(f"/servers/{a.pk}/").text
    assert "PMTA config delivery" in page
    assert "version 1: pmta reload exited 1" in page
    assert f"pmta pause queue */{ip_a.vmta_name}" in page and "pending" in page
    assert "ee-agent/1 test-host" in page
    home = operator_client.get("/").text
    assert "Config (applied / desired)" in home and "failed" in home
