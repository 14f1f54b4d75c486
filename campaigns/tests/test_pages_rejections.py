"""The kept-records page: list, filter, re-ingest after a fix, dismiss; operators only."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from campaigns.accounting.importer import accounting_import_body
from campaigns.models import DeliveryEvent, ImportRejection
from campaigns.selectors import import_rejections
from campaigns.services.rejections import rejection_reingest
from campaigns.tests.factories import csv_text, record, server_with_token, tenant_ip
from core.models import AuditEvent
from ips.models import IPAddress

pytestmark = pytest.mark.django_db

URL = reverse("rejection_list")


@pytest.fixture
def kept(tenant_a, tenant_b):
    """mta-a posted one record of mta-b's IP (held) and one with a bad time (rejected), as CSV."""
    server_a, _ = server_with_token("mta-a")
    server_b, _ = server_with_token("mta-b")
    tenant_ip(tenant_a, "203.0.113.10", server=server_a)
    tenant_ip(tenant_b, "198.51.100.20", server=server_b)
    records = [
        record(rcpt="ok@example.org"),
        record(rcpt="held@example.org", dlvSourceIp="198.51.100.20"),
        record(rcpt="late@example.org", timeLogged="2025-07-10 25:00:00"),
    ]
    accounting_import_body(server=server_a, body=csv_text(records).encode(), content_type="text/csv")
    return server_a, server_b


def test_it_lists_kept_records_for_operators_only(client, login, operator, admin_a, kept):
    login(admin_a)
    assert client.get(URL).status_code == 404
    login(operator)
    page = client.get(URL)
    assert page.status_code == 200
    assert page.content.decode().count('class="rejection-row"') == 2
    held = client.get(URL, {"kind": "mismatch"}).content.decode()
    assert held.count('class="rejection-row"') == 1 and "belongs to server mta-b" in held
    found = client.get(URL, {"q": "bad timeLogged"}).content.decode()
    assert found.count('class="rejection-row"') == 1


def test_it_downloads_a_record_as_it_came(client, login, operator, kept):
    login(operator)
    rejection = ImportRejection.objects.get(kind="rejected")
    response = client.get(reverse("rejection_download", args=[rejection.pk]))
    header, line = response.content.decode().splitlines()
    assert header.startswith("type,timeLogged") and "late@example.org" in line


def test_a_held_record_is_credited_after_the_inventory_is_fixed(client, login, operator, kept, tenant_a):
    server_a, _server_b = kept
    IPAddress.objects.filter(address="198.51.100.20").update(server=server_a, pool=None)
    tenant_ip(tenant_a, "198.51.100.21", server=server_a)  # (just another IP of A)
    held = ImportRejection.objects.get(kind="mismatch")
    login(operator)
    response = client.post(URL, {"ids": [held.pk], "action": "reingest", "confirm": "on"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.resolution, held.resolved_by) == ("imported", operator.username)
    assert DeliveryEvent.objects.get(rcpt="held@example.org").server == server_a
    assert AuditEvent.objects.filter(action="accounting.rejections_reingest").count() == 1
    # Again: nothing is open any more, nothing is counted twice.
    assert rejection_reingest(rejections=[held], by="test").skipped == 1


def test_a_held_record_can_be_credited_to_its_ips_own_server(client, login, operator, kept, tenant_b):
    _server_a, server_b = kept
    held = ImportRejection.objects.get(kind="mismatch")
    login(operator)
    client.post(URL, {"ids": [held.pk], "action": "reingest_by_ip", "confirm": "on"})
    event = DeliveryEvent.objects.get(rcpt="held@example.org")
    assert (event.server, event.tenant) == (server_b, tenant_b)


def test_a_record_refused_again_stays_open_with_its_reason(kept):
    rejected = ImportRejection.objects.get(kind="rejected")
    outcome = rejection_reingest(rejections=[rejected], by="test")
    assert (outcome.imported, outcome.refused) == (0, 1)
    rejected.refresh_from_db()
    assert rejected.is_open and "bad timeLogged" in rejected.reason
    assert ImportRejection.objects.count() == 2  # not kept a second time


def test_a_json_record_re_ingests_after_its_data_is_fixed(kept):
    server_a, _ = kept
    body = json.dumps([record(rcpt="x" * 400 + "@example.org")]).encode()
    accounting_import_body(server=server_a, body=body, content_type="application/json")
    rejection = ImportRejection.objects.get(data_format="json")
    rejection.data = bytes(rejection.data).replace(b"x" * 400, b"fixed")
    rejection.save(update_fields=["data"])
    assert rejection_reingest(rejections=[rejection], by="test").imported == 1
    assert DeliveryEvent.objects.filter(rcpt="fixed@example.org").exists()


def test_dismiss_needs_confirmation_and_keeps_the_record(client, login, operator, kept):
    rejected = ImportRejection.objects.get(kind="rejected")
    login(operator)
    refused = client.post(URL, {"ids": [rejected.pk], "action": "dismiss"})
    assert refused.status_code == 400
    client.post(URL, {"ids": [rejected.pk], "action": "dismiss", "confirm": "on"})
    rejected.refresh_from_db()
    assert rejected.resolution == "dismissed"
    assert list(import_rejections(status="open").values_list("kind", flat=True)) == ["mismatch"]
    assert import_rejections(status="resolved").get() == rejected


def test_the_list_query_count_does_not_grow_with_rows(
    client, login, operator, kept, django_assert_max_num_queries
):
    server_a, _ = kept
    bad = [record(rcpt=f"u{i}@example.org", timeLogged="never") for i in range(30)]
    accounting_import_body(server=server_a, body=csv_text(bad).encode(), content_type="text/csv")
    login(operator)
    with django_assert_max_num_queries(12):
        assert client.get(URL).status_code == 200


def test_a_csv_record_kept_without_its_header_is_refused_not_a_crash(client, login, operator, kept):
    """A CSV line is only readable by its header; one kept without it (an older release, an API import)
    is refused with that reason and stays open, on the page and in the service alike."""
    rejected = ImportRejection.objects.get(kind="rejected")
    rejected.header = []
    rejected.save(update_fields=["header"])
    outcome = rejection_reingest(rejections=[rejected], by="test")
    assert (outcome.imported, outcome.refused) == (0, 1)
    rejected.refresh_from_db()
    assert rejected.is_open and "header" in rejected.reason
    login(operator)
    response = client.post(URL, {"ids": [rejected.pk], "action": "reingest", "confirm": "on"}, follow=True)
    assert response.status_code == 200
    assert "1 refused again" in response.content.decode()
