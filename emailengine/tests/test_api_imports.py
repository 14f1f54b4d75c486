"""Accounting import history and kept records through the API (operators), with re-ingest and dismiss."""

import pytest

from campaigns.accounting.importer import accounting_import_body
from campaigns.models import AccountingFile, DeliveryEvent, ImportRejection
from campaigns.tests.factories import csv_text, record, server_with_token, tenant_ip
from core.models import AuditEvent
from testsupport.api import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(tenant_a, tenant_b):
    """mta-a posted one record of mta-b's IP (held) and one with a bad time (rejected)."""
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


def test_it_lists_sources_and_kept_records_with_the_pages_filters(operator, kept):
    api = api_as(operator)
    sources = api.get("imports").json()
    assert sources["count"] == 1
    source = sources["items"][0]
    assert (source["kind"], source["server"], source["imported"], source["held"], source["rejected"]) == (
        "webhook",
        "mta-a",
        1,
        1,
        1,
    )
    assert api.get(f"imports/{source['id']}").json()["path"] == source["path"]

    records = api.get("imports/records").json()
    assert records["count"] == 2
    assert {r["kind"] for r in records["items"]} == {"rejected", "mismatch"}
    held = api.get("imports/records", kind="mismatch").json()["items"]
    assert len(held) == 1 and "mta-b" in held[0]["reason"]
    assert api.get("imports/records", q="bad timeLogged").json()["count"] == 1
    assert api.get("imports/records", source=source["id"], status="all").json()["count"] == 2

    late = ImportRejection.objects.get(kind="rejected")
    download = api.get(f"imports/records/{late.pk}/download")
    header, line = download.content.decode().splitlines()
    assert header.startswith("type,timeLogged") and "late@example.org" in line


def test_it_reingests_a_held_record_by_its_ips_server_and_audits_with_the_token(operator, kept):
    _server_a, server_b = kept
    held = ImportRejection.objects.get(kind="mismatch")
    api = api_as(operator, "ops")

    response = api.post("imports/records/reingest", {"ids": [held.pk], "by_ip": True})

    assert response.status_code == 200, response.content
    assert response.json()["imported"] == 1
    assert DeliveryEvent.objects.get(rcpt="held@example.org").server == server_b
    event = AuditEvent.objects.get(action="accounting.rejections_reingest")
    assert event.via == f"api token: {api.token_name}"
    again = api.post("imports/records/reingest", {"ids": [held.pk]}).json()
    assert (again["imported"], again["skipped"]) == (0, 1)


def test_it_dismisses_records_and_refuses_unknown_ids(operator, kept):
    api = api_as(operator)
    late = ImportRejection.objects.get(kind="rejected")
    assert api.post("imports/records/dismiss", {"ids": [late.pk]}).json() == {"dismissed": 1}
    late.refresh_from_db()
    assert late.resolution == "dismissed"
    assert api.get("imports/records").json()["count"] == 1

    unknown = api.post("imports/records/dismiss", {"ids": [late.pk + 1000]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "ids"


def test_tenant_users_get_404_everywhere(admin_a, viewer_a, kept):
    source = AccountingFile.objects.get()
    late = ImportRejection.objects.get(kind="rejected")
    for user in (admin_a, viewer_a):
        api = api_as(user)
        for path in ("imports", f"imports/{source.pk}", "imports/records", f"imports/records/{late.pk}"):
            assert api.get(path).status_code == 404, path
        assert api.post("imports/records/dismiss", {"ids": [late.pk]}).status_code == 404
