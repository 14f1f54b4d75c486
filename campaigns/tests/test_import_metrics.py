"""/metrics: records imported by type, rejected records, import lag."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.accounting.importer import accounting_import_path
from campaigns.metrics import AccountingCollector
from campaigns.tests.factories import csv_text, record

pytestmark = pytest.mark.django_db


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} not in metrics"
    return float(match.group(1))


def test_metrics_show_imports_rejections_and_lag(client, tmp_path):
    logged = (timezone.now() - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S+0000")
    path = tmp_path / "acct.csv"
    path.write_text(
        csv_text(
            [
                record(timeLogged=logged),
                record(type="b", rcpt="b@example.org", bounceCat="bad-mailbox", timeLogged=logged),
                record(type="zz"),
            ]
        )
    )
    accounting_import_path(path=path)
    text = client.get("/metrics").content.decode()
    assert _value(text, 'emailengine_accounting_records_total{type="d"}') == 1
    assert _value(text, 'emailengine_accounting_records_total{type="b"}') == 1
    assert _value(text, "emailengine_accounting_rejected_total") == 1
    lag = _value(text, "emailengine_accounting_import_lag_seconds")
    assert 590 <= lag < 900


def test_a_collector_without_database_yields_nothing(monkeypatch):
    from campaigns.models import AccountingCounter

    def boom(*args, **kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(AccountingCounter.objects, "values_list", boom)
    assert list(AccountingCollector().collect()) == []
