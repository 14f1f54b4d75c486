"""f records count by ARF Feedback-Type (RFC 5965): abuse, fraud, virus complain; not-spam never suppress."""

from __future__ import annotations

import pytest

from campaigns.accounting.importer import accounting_import_path
from campaigns.models import DailyStat, DeliveryEvent, Suppression
from campaigns.tests.factories import csv_text, record, tenant_ip

pytestmark = pytest.mark.django_db

F_HEADER = ["type", "timeLogged", "feedbackType", "format", "rcpt", "orig", "dlvSourceIp", "header_X-job"]


def _f(rcpt: str, feedback_type: str) -> dict[str, str]:
    return record(type="f", rcpt=rcpt, feedbackType=feedback_type, format="arf", **{"header_X-job": "c1"})


def test_it_counts_feedback_by_type_and_only_complaints_suppress(tmp_path, tenant_a):
    tenant_ip(tenant_a, "203.0.113.10")
    records = [
        _f("abuse@example.org", "abuse"),
        _f("fraud@example.org", "fraud"),
        _f("virus@example.org", "virus"),
        _f("notspam@example.org", "not-spam"),
        _f("other@example.org", "other"),
        _f("jmrp@example.org", ""),
    ]
    path = tmp_path / "fbl.csv"
    path.write_text(csv_text(records, header=F_HEADER))
    result = accounting_import_path(path=path)
    assert result.by_type == {"f": 6}
    assert result.as_dict()["by_feedback"] == {
        "": 1,
        "abuse": 1,
        "fraud": 1,
        "not-spam": 1,
        "other": 1,
        "virus": 1,
    }
    outcomes = dict(DeliveryEvent.objects.values_list("rcpt", "outcome"))
    assert outcomes["notspam@example.org"] == outcomes["other@example.org"] == "other"
    assert {outcomes[f"{name}@example.org"] for name in ("abuse", "fraud", "virus", "jmrp")} == {"complaint"}
    suppressed = set(Suppression.objects.filter(tenant=tenant_a).values_list("email", flat=True))
    assert suppressed == {"abuse@example.org", "fraud@example.org", "virus@example.org", "jmrp@example.org"}
    stat = DailyStat.objects.get()
    assert (stat.complaints, stat.other) == (4, 2)
