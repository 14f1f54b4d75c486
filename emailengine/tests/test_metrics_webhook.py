"""Accounting webhook requests counted by response status on /metrics."""

import pytest
from prometheus_client.core import REGISTRY

from campaigns.tests.factories import csv_text, record, server_with_token

pytestmark = pytest.mark.django_db

URL = "/hooks/pmta/accounting"


def count(status: str) -> float:
    return REGISTRY.get_sample_value("emailengine_webhook_requests_total", {"status": status}) or 0.0


def test_it_counts_every_response_status(client):
    _server, token = server_with_token("mta-hook-metrics")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    before = {status: count(status) for status in ("200", "400", "401", "405")}

    assert client.post(URL, csv_text([record()]), content_type="text/csv", **auth).status_code == 200
    assert (
        client.post(
            URL, csv_text([record(rcpt="x@example.org")]), content_type="text/csv", **auth
        ).status_code
        == 200
    )
    assert client.post(URL, "", content_type="text/csv", **auth).status_code == 400
    assert (
        client.post(URL, "x", content_type="text/csv", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    )
    assert client.get(URL).status_code == 405  # require_POST answers before the view: still counted

    after = {status: count(status) for status in before}
    assert {status: after[status] - before[status] for status in before} == {
        "200": 2,
        "400": 1,
        "401": 1,
        "405": 1,
    }
    body = client.get("/metrics").content.decode()
    assert f'emailengine_webhook_requests_total{{status="200"}} {after["200"]}' in body


def test_it_keeps_the_view_csrf_exempt_and_public(client):
    from campaigns.accounting.webhook import pmta_accounting_hook

    assert pmta_accounting_hook.csrf_exempt is True
    assert pmta_accounting_hook.login_required is False
