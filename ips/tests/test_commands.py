"""add_mta_server and add_ips: the ARCHITECTURE contracts, including --json and exit codes."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import AuditEvent
from ips.models import IPAddress, IPPool, MtaServer, hash_token
from ips.services import server_for_token
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory


@pytest.mark.django_db
def test_it_creates_a_server_and_prints_the_token_once_as_json(capsys):
    call_command(
        "add_mta_server",
        "pmta-1",
        "--hostname",
        "pmta-1.example.net",
        "--mgmt-url",
        "http://127.0.0.1:8080",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    server = MtaServer.objects.get(name="pmta-1")
    assert out == {"server": "pmta-1", "id": server.pk, "token": out["token"]}
    assert server.webhook_token_hash == hash_token(out["token"]) and server_for_token(out["token"]) == server
    assert out["token"] not in server.webhook_token_hash
    assert (server.hostname, server.mgmt_url) == ("pmta-1.example.net", "http://127.0.0.1:8080")
    event = AuditEvent.objects.get(action="server.create")
    assert event.actor_label == "system: cli" and out["token"] not in json.dumps(event.after)


@pytest.mark.django_db
def test_it_prints_the_token_in_text_mode(capsys):
    call_command("add_mta_server", "pmta-2")
    out = capsys.readouterr().out
    server = MtaServer.objects.get(name="pmta-2")
    token = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Webhook token: "))
    assert out.count(token) == 1 and server_for_token(token) == server


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["pmta 1"], ["pmta-3", "--mgmt-url", "not-a-url"]])
def test_it_refuses_bad_server_arguments(args):
    with pytest.raises(CommandError):
        call_command("add_mta_server", *args)
    assert not MtaServer.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_duplicate_server_name():
    MtaServerFactory(name="pmta-1")
    with pytest.raises(CommandError, match="already exists"):
        call_command("add_mta_server", "pmta-1")


@pytest.mark.django_db
def test_it_adds_ips_and_creates_the_tenants_pool(capsys, tenant_a):
    MtaServerFactory(name="pmta-1")
    call_command(
        "add_ips",
        "--server",
        "pmta-1",
        "--pool",
        "a-main",
        "--tenant",
        "tenant-a",
        "--hostname-template",
        "mail-{ip}.a.test",
        "--json",
        "203.0.113.0/30",
        "2001:db8::10",
    )
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == 3 and out["pool_created"] is True
    assert out["addresses"] == ["203.0.113.1", "203.0.113.2", "2001:db8::10"]
    assert (out["server"], out["pool"], out["tenant"]) == ("pmta-1", "a-main", "tenant-a")
    pool = IPPool.objects.get(name="a-main")
    assert pool.tenant == tenant_a
    assert set(IPAddress.objects.values_list("pool", flat=True)) == {pool.pk}
    assert IPAddress.objects.get(address="203.0.113.1").hostname == "mail-203-0-113-1.a.test"
    actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["ip.create"] * 3 + ["pool.create"]
    assert set(AuditEvent.objects.values_list("actor_label", flat=True)) == {"system: cli"}


@pytest.mark.django_db
def test_it_reuses_an_existing_pool(capsys, tenant_a):
    server = MtaServerFactory(name="pmta-1")
    IPPoolFactory(name="a-main", server=server, tenant=tenant_a)
    call_command("add_ips", "--server", "pmta-1", "--pool", "a-main", "--json", "203.0.113.5")
    assert json.loads(capsys.readouterr().out)["pool_created"] is False
    assert IPPool.objects.count() == 1


@pytest.mark.django_db
def test_it_exits_non_zero_and_adds_nothing_when_any_argument_is_bad(capsys, tenant_a):
    server = MtaServerFactory(name="pmta-1")
    IPAddressFactory(address="198.51.100.9", server=server)
    with pytest.raises(CommandError, match="nothing was added"):
        call_command(
            "add_ips",
            "--server",
            "pmta-1",
            "--pool",
            "a-main",
            "--tenant",
            "tenant-a",
            "--json",
            "203.0.113.1",
            "bogus",
            "198.51.100.9",
        )
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == 0
    assert [(e["line"], e["input"]) for e in out["errors"]] == [(2, "bogus"), (3, "198.51.100.9")]
    assert IPAddress.objects.count() == 1 and not IPPool.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_reports_bad_arguments_on_stderr_in_text_mode(capsys):
    MtaServerFactory(name="pmta-1")
    with pytest.raises(CommandError):
        call_command("add_ips", "--server", "pmta-1", "203.0.113.1", "10.0.0.0/8")
    err = capsys.readouterr().err
    assert "argument 2 (10.0.0.0/8)" in err
    assert not IPAddress.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "nope", "203.0.113.1"], "no server named nope"),
        (["--server", "pmta-1", "--pool", "p", "--tenant", "nope", "203.0.113.1"], "no tenant"),
        (["--server", "pmta-1", "--pool", "missing", "203.0.113.1"], "pass --tenant"),
        (["--server", "pmta-1", "--tenant", "tenant-a", "203.0.113.1"], "--tenant needs --pool"),
        (["--server", "pmta-1", "--pool", "b-pool", "--tenant", "tenant-a", "203.0.113.1"], "belongs to"),
    ],
)
def test_it_refuses_bad_targets(args, message, tenant_a, tenant_b):
    server = MtaServerFactory(name="pmta-1")
    IPPoolFactory(name="b-pool", server=server, tenant=tenant_b)
    with pytest.raises(CommandError, match=message):
        call_command("add_ips", *args)
    assert not IPAddress.objects.exists()


@pytest.mark.django_db
def test_it_seeds_demo_servers_pools_and_ips_idempotently():
    from ips.demo import seed
    from tenants.demo import seed_tenants

    tenants, _ = seed_tenants("demo-pass-2026")
    first = seed(tenants)
    events = AuditEvent.objects.count()
    assert seed(tenants) == first == {"MTA servers": 1, "IP pools": 3, "IPs": 9}
    assert AuditEvent.objects.count() == events
    server = MtaServer.objects.get(name="pmta-1")
    assert (server.hostname, server.mgmt_url) == ("pmta-1.example.net", "http://127.0.0.1:8080")
    owners = dict(IPPool.objects.values_list("name", "tenant__slug"))
    assert owners == {"sos-main": "sos-expat", "ulixai-main": "ulixai", "shared-warm": None}
    statuses = set(IPAddress.objects.values_list("status", flat=True))
    assert statuses == {"new", "warming", "active", "paused"}
    assert IPAddress.objects.filter(address="2001:db8::10").exists()
    assert IPAddress.objects.get(address="203.0.113.15").paused_from == "warming"
