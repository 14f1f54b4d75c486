"""Whatever a PMTA host sends, one bad record is rejected alone, kept verbatim, and the batch goes on."""

from __future__ import annotations

import json
import random
import string

import pytest
from django.db import OperationalError

from campaigns.accounting import importer, stage
from campaigns.models import AccountingFile, DeliveryEvent, ImportRejection, Suppression
from campaigns.tests.factories import bounce, csv_text, record, server_with_token, tenant_ip

pytestmark = pytest.mark.django_db

URL = "/hooks/pmta/accounting"
HEADER_WITH_SUBJECT = [*csv_text([]).strip().split(","), "header_Subject"]


def _post(client, token: str, body: bytes, content_type: str):
    headers = {"Authorization": f"Bearer {token}"}
    return client.post(URL, data=body, content_type=content_type, headers=headers)


def _body(records: list[dict[str, str]], kind: str) -> tuple[bytes, str]:
    if kind == "csv":
        return csv_text(records, header=HEADER_WITH_SUBJECT).encode(), "text/csv"
    if kind == "json":
        return json.dumps(records).encode(), "application/json"
    return "\n".join(json.dumps(r) for r in records).encode() + b"\n", "application/x-ndjson"


def _random_local(n: int) -> str:
    rng = random.Random(n)
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))


BAD_RECORDS = {
    "an address that is not an IP": (record(rcpt="bad@example.org", dlvSourceIp="not-an-ip"), "not an IP"),
    "a 9 KB recipient": (record(rcpt=_random_local(9000) + "@example.org"), "rcpt is longer than 320"),
    "a header field over 128 KB": (
        record(rcpt="big@example.org", header_Subject="s" * 140_000),
        "131072",
    ),
    "a 9 KB vmta": (record(rcpt="v@example.org", vmta="v" * 9000), "vmta is longer than 100"),
    "a nested value": (record(rcpt="n@example.org", dsnDiag=[[["x"]]]), "expected a string or number"),
}


@pytest.mark.parametrize("kind", ["csv", "json", "ndjson"])
@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_it_rejects_a_bad_record_alone_and_keeps_it_verbatim(client, kind, case):
    bad, reason = BAD_RECORDS[case]
    if kind == "csv" and case == "a nested value":
        pytest.skip("CSV has no nesting")
    server, token = server_with_token()
    records = [record(rcpt="first@example.org"), bad, record(rcpt="last@example.org")]
    body, content_type = _body(records, kind)
    response = _post(client, token, body, content_type)
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (2, 1)
    assert data["errors"][0]["line"] == (3 if kind == "csv" else 2)
    assert reason in data["errors"][0]["reason"]
    rejection = ImportRejection.objects.get()
    assert (rejection.server, rejection.kind, rejection.data_format) == (server, "rejected", kind)
    assert reason in rejection.reason and rejection.created_at is not None
    sent = body.splitlines(keepends=True)
    if kind == "csv":
        assert bytes(rejection.data) == sent[2] and rejection.header == HEADER_WITH_SUBJECT
    elif kind == "ndjson":
        assert bytes(rejection.data) == sent[1].rstrip(b"\n")
    else:
        assert json.loads(bytes(rejection.data)) == json.loads(body)[1]
    assert rejection.data_size == len(bytes(rejection.data))
    stored = set(DeliveryEvent.objects.values_list("rcpt", flat=True))
    assert stored == {"first@example.org", "last@example.org"}


def test_json_items_are_kept_byte_for_byte():
    server, _token = server_with_token()
    body = b'[ {"type":"d","rcpt":"a@example.org","timeLogged":"2025-07-10 11:58:57"} ,\n  {"type" : "zz"}]'
    result = importer.accounting_import_body(server=server, body=body, content_type="application/json")
    assert (result.imported, result.rejected) == (1, 1)
    assert bytes(ImportRejection.objects.get().data) == b'{"type" : "zz"}'


def test_a_body_nested_too_deeply_is_400_with_the_reason(client):
    _server, token = server_with_token()
    response = _post(client, token, b"[" * 100_000 + b"]" * 100_000, "application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]


def test_a_deeply_nested_ndjson_line_is_rejected_alone(client):
    _server, token = server_with_token()
    body = json.dumps(record()).encode() + b"\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    response = _post(client, token, body, "application/x-ndjson")
    assert response.status_code == 200
    assert (response.json()["accepted"], response.json()["rejected"]) == (1, 1)


@pytest.mark.parametrize("kind", ["csv", "json", "ndjson"])
def test_a_hard_bounce_with_bytes_that_are_not_utf8_in_its_diagnostic_still_counts(client, kind, tenant_a):
    tenant = tenant_a
    server, token = server_with_token()
    tenant_ip(tenant, "203.0.113.10", server=server)
    gone = bounce("gone@example.org", dsnDiag="smtp;550 5.1.1 user MARKER unknown")
    body, content_type = _body([gone], kind)
    body = body.replace(b"MARKER", b"M\xfcller\xff")
    response = _post(client, token, body, content_type)
    assert response.json()["accepted"] == 1, response.json()
    event = DeliveryEvent.objects.get()
    assert "M\ufffdller\ufffd" in event.dsn_diag and event.outcome == "hard_bounce"
    assert Suppression.objects.get(tenant=tenant).email == "gone@example.org"


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_bytes_that_are_not_utf8_in_the_recipient_reject_the_record(client, kind):
    _server, token = server_with_token()
    body, content_type = _body([record(rcpt="MARKER@example.org"), record(rcpt="ok@example.org")], kind)
    response = _post(client, token, body.replace(b"MARKER", b"gr\xfcn"), content_type)
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (1, 1)
    assert data["errors"][0]["reason"] == "rcpt is not valid UTF-8"
    assert b"gr\xfcn@example.org" in bytes(ImportRejection.objects.get().data)


def test_json_surrogate_escapes_are_replaced_in_free_text(client):
    _server, token = server_with_token()
    body = json.dumps([bounce("x@example.org", dsnDiag="smtp;550 \udcff")]).encode()
    assert b"\\udcff" in body
    response = _post(client, token, body, "application/json")
    assert response.json()["accepted"] == 1
    assert DeliveryEvent.objects.get().dsn_diag == "smtp;550 \ufffd"


def test_a_record_the_database_itself_refuses_is_rejected_alone(client, monkeypatch):
    """The safety net under the checks: with the rcpt limit lifted, the index refuses a 9 KB address."""
    monkeypatch.setattr(stage, "RCPT_MAX", 1 << 20)
    _server, token = server_with_token()
    records = [record(rcpt=f"u{i}@example.org") for i in range(7)]
    records.insert(3, record(rcpt=_random_local(9000) + "@example.org"))
    response = _post(client, token, json.dumps(records).encode(), "application/json")
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["duplicates"], data["rejected"]) == (7, 0, 1)
    assert "the database refused the record" in data["errors"][0]["reason"]
    rejection = ImportRejection.objects.get()
    assert json.loads(bytes(rejection.data))["rcpt"].endswith("@example.org")
    assert AccountingFile.objects.get().rejected == 1


def test_only_a_database_failure_is_a_5xx(client, monkeypatch):
    _server, token = server_with_token()

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("campaigns.accounting.webhook.accounting_import_body", down)
    response = _post(client, token, json.dumps([record()]).encode(), "application/json")
    assert response.status_code == 503
    assert "retry" in response.json()["error"]


def test_a_record_that_breaks_the_parser_is_rejected_alone(client, monkeypatch):
    original = stage.bounce_outcome

    def broken(category, *args):
        if category == "boom":
            raise KeyError("a bug")
        return original(category, *args)

    monkeypatch.setattr(stage, "bounce_outcome", broken)
    _server, token = server_with_token()
    records = [bounce("a@example.org"), bounce("b@example.org", category="boom")]
    data = _post(client, token, *_body(records, "json")).json()
    assert (data["accepted"], data["rejected"]) == (1, 1)
    assert data["errors"][0]["reason"].startswith("could not be read (KeyError")


def test_a_bad_record_in_a_file_keeps_its_bytes_gzip_too(tmp_path):
    import gzip

    text = csv_text([record(rcpt="a@example.org"), record(rcpt="b@example.org", dlvSourceIp="1.2.3")])
    path = tmp_path / "acct.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    result = importer.accounting_import_path(path=path)
    assert (result.imported, result.rejected) == (1, 1)
    rejection = ImportRejection.objects.get()
    assert bytes(rejection.data) == text.encode().splitlines(keepends=True)[2]
    assert rejection.server is None
