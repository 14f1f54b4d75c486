"""POST /hooks/pmta/accounting: body types, duplicates, auth, bad bodies, size limit."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from campaigns.accounting.importer import accounting_import_path
from campaigns.models import AccountingFile, DailyStat, DeliveryEvent, ImportRejection
from campaigns.tests.factories import bounce, csv_text, record, server_with_token

pytestmark = pytest.mark.django_db

URL = "/hooks/pmta/accounting"


@pytest.fixture
def mta():
    return server_with_token()


def _post(client, token: str | None, body: bytes | str, content_type: str):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(URL, data=body, content_type=content_type, headers=headers)


def test_the_url_name():
    assert reverse("pmta_accounting_hook") == URL


def test_csv_body(client, mta):
    server, token = mta
    response = _post(client, token, csv_text([record(), bounce("gone@example.org")]), "text/csv")
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": 0, "errors": []}
    assert DeliveryEvent.objects.filter(server=server).count() == 2
    source = AccountingFile.objects.get()
    assert (source.kind, source.server, source.imported) == ("webhook", server, 2)


def test_json_array_body(client, mta):
    _server, token = mta
    body = json.dumps([record(rcpt="a@example.org"), record(rcpt="b@example.org", type="t")])
    response = _post(client, token, body, "application/json")
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": 0, "errors": []}
    assert set(DeliveryEvent.objects.values_list("type", flat=True)) == {"d", "t"}


def test_ndjson_body_with_a_bad_line(client, mta):
    _server, token = mta
    lines = [json.dumps(record(rcpt="a@example.org")), "{not json", json.dumps(record(rcpt="b@example.org"))]
    response = _post(client, token, "\n".join(lines) + "\n", "application/x-ndjson")
    data = response.json()
    assert (response.status_code, data["accepted"], data["rejected"]) == (200, 2, 1)
    assert data["errors"][0]["line"] == 2 and "not valid JSON" in data["errors"][0]["reason"]
    assert ImportRejection.objects.get().raw == "{not json"


def test_a_rejected_json_record_keeps_its_raw_text(client, mta):
    _server, token = mta
    response = _post(client, token, json.dumps([record(type="zz")]), "application/json")
    assert response.json()["errors"] == [{"line": 1, "reason": "unknown record type 'zz'"}]
    assert '"type": "zz"' in ImportRejection.objects.get().raw


def test_a_batch_posted_twice_is_counted_once(client, mta):
    _server, token = mta
    body = json.dumps([record(rcpt=f"u{i}@example.org") for i in range(5)])
    assert _post(client, token, body, "application/json").json()["accepted"] == 5
    again = _post(client, token, body, "application/json").json()
    assert (again["accepted"], again["duplicates"]) == (0, 5)
    assert DailyStat.objects.get().delivered == 5
    source = AccountingFile.objects.get()
    assert (source.records_read, source.imported, source.duplicates) == (10, 5, 5)


def test_a_record_from_a_file_and_the_webhook_counts_once(client, mta, tmp_path):
    _server, token = mta
    recs = [record(rcpt="a@example.org"), record(rcpt="b@example.org")]
    path = tmp_path / "acct.csv"
    path.write_text(csv_text(recs))
    accounting_import_path(path=path)
    reply = _post(client, token, json.dumps(recs), "application/json").json()
    assert (reply["accepted"], reply["duplicates"]) == (0, 2)


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_without_a_valid_token_it_is_401(client, mta, token):
    response = _post(client, token, csv_text([record()]), "text/csv")
    assert response.status_code == 401
    assert not DeliveryEvent.objects.exists()


def test_basic_auth_is_not_a_bearer_token(client, mta):
    _server, token = mta
    response = client.post(
        URL, data=csv_text([record()]), content_type="text/csv", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"\x00\x01garbage", "application/json", "not valid JSON"),
        (b"[1, 2", "application/json", "not valid JSON"),
        (b'"a string"', "application/json", "expected a JSON array"),
        (b"\xff\xfe", "application/x-ndjson", "no JSON object"),
        (b"just words\nmore words\n", "application/x-ndjson", "no JSON object"),
        (b"foo,bar\n1,2\n", "text/csv", "type"),
        (b"type,timeLogged\n", "application/xml", "unsupported content type"),
        (b"", "text/csv", "empty body"),
    ],
)
def test_a_body_it_cannot_parse_is_400_with_a_reason(client, mta, body, content_type, reason):
    _server, token = mta
    response = _post(client, token, body, content_type)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_past_the_size_limit_it_is_413(client, mta, settings):
    settings.ACCOUNTING_WEBHOOK_MAX_BYTES = 1000
    _server, token = mta
    small = csv_text([record()])
    assert _post(client, token, small, "text/csv").status_code == 200
    big = csv_text([record(rcpt=f"user{i}@example.org") for i in range(20)])
    assert len(big) > 1000
    response = _post(client, token, big, "text/csv")
    assert response.status_code == 413
    assert DeliveryEvent.objects.count() == 1


def test_bodies_above_djangos_form_limit_are_accepted(client, mta, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _server, token = mta
    big = csv_text([record(rcpt=f"user{i}@example.org") for i in range(20)])
    assert _post(client, token, big, "text/csv").json()["accepted"] == 20


def test_only_post(client, mta):
    _server, token = mta
    assert client.get(URL, headers={"Authorization": f"Bearer {token}"}).status_code == 405


def test_no_csrf_token_needed(mta):
    from django.test import Client

    _server, token = mta
    strict = Client(enforce_csrf_checks=True)
    assert _post(strict, token, csv_text([record()]), "text/csv").status_code == 200
