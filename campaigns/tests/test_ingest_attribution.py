"""A record belongs to the server that sent it: another server's IP is held aside, never credited."""

from __future__ import annotations

import json

import pytest

from campaigns.accounting.importer import accounting_import_body, accounting_import_path
from campaigns.models import AccountingFile, DailyStat, DeliveryEvent, ImportRejection, Suppression
from campaigns.tests.factories import bounce, csv_text, record, server_with_token, tenant_ip

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(tenant_a, tenant_b):
    server_a, token_a = server_with_token("mta-a")
    server_b, _token_b = server_with_token("mta-b")
    tenant_ip(tenant_a, "203.0.113.10", server=server_a)
    tenant_ip(tenant_b, "198.51.100.20", server=server_b)
    return server_a, token_a, server_b


def test_a_server_posting_another_servers_ip_is_held_aside_not_credited(client, fleet, tenant_a, tenant_b):
    server_a, token_a, _server_b = fleet
    records = [
        record(rcpt="mine@example.org", dlvSourceIp="203.0.113.10"),
        bounce("theirs@example.org", dlvSourceIp="198.51.100.20"),
    ]
    response = client.post(
        "/hooks/pmta/accounting",
        data=json.dumps(records),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_a}"},
    )
    data = response.json()
    assert (data["accepted"], data["rejected"], data["held"]) == (1, 0, 1)
    assert "belongs to server mta-b, not to mta-a" in data["errors"][0]["reason"]
    assert list(DeliveryEvent.objects.values_list("rcpt", "tenant", "server")) == [
        ("mine@example.org", tenant_a.pk, server_a.pk)
    ]
    assert not DailyStat.objects.filter(tenant=tenant_b).exists()
    assert not Suppression.objects.exists()
    held = ImportRejection.objects.get()
    assert (held.kind, held.server) == ("mismatch", server_a)
    assert AccountingFile.objects.get().held == 1


def test_a_server_that_owns_no_ip_writes_nothing_into_a_tenant(fleet):
    newcomer, _token = server_with_token("mta-new")
    body = json.dumps([record(rcpt=f"u{i}@example.org", dlvSourceIp="198.51.100.20") for i in range(20)])
    result = accounting_import_body(server=newcomer, body=body.encode(), content_type="application/json")
    assert (result.imported, result.held) == (0, 20)
    assert not DeliveryEvent.objects.exists()


def test_an_ip_not_in_the_inventory_is_the_senders_with_no_tenant(fleet):
    server_a, _token, _b = fleet
    body = json.dumps([record(dlvSourceIp="192.0.2.99")]).encode()
    assert accounting_import_body(server=server_a, body=body, content_type="application/json").imported == 1
    assert list(DeliveryEvent.objects.values_list("server", "tenant")) == [(server_a.pk, None)]


def test_a_file_with_server_holds_other_servers_records(tmp_path, fleet, tenant_b):
    server_a, _token, _server_b = fleet
    path = tmp_path / "acct.csv"
    mine = record(rcpt="a@example.org", dlvSourceIp="203.0.113.10")
    path.write_text(csv_text([mine, record(dlvSourceIp="198.51.100.20")]))
    result = accounting_import_path(path=path, server=server_a)
    assert (result.imported, result.held) == (1, 1)
    assert result.as_dict()["held"] == 1
    assert ImportRejection.objects.get().kind == "mismatch"


def test_a_file_without_server_takes_each_ips_own_server(tmp_path, fleet, tenant_b):
    _server_a, _token, server_b = fleet
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(dlvSourceIp="198.51.100.20")]))
    assert accounting_import_path(path=path).imported == 1
    assert list(DeliveryEvent.objects.values_list("server", "tenant")) == [(server_b.pk, tenant_b.pk)]
