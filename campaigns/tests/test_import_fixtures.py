"""The four real PMTA files: exact counts, categories from their rows, tenant attribution, re-import."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from django.db.models import Sum

from campaigns.accounting.importer import accounting_import_path
from campaigns.models import AccountingFile, DailyStat, DeliveryEvent, Suppression
from campaigns.tests.factories import FIXTURES, tenant_ip

pytestmark = pytest.mark.django_db

FILES = sorted(Path(FIXTURES).glob("acct-*.csv"))


def _import_all():
    results = [accounting_import_path(path=path) for path in FILES]
    return results


def _bounce_categories_in_files() -> Counter:
    categories: Counter = Counter()
    for path in FILES:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["type"] == "b":
                    categories[row["bounceCat"]] += 1
    return categories


def test_it_imports_exactly_26_delivered_and_53_bounced():
    assert len(FILES) == 4
    results = _import_all()
    assert sum(r.imported for r in results) == 79
    assert sum((r.by_type for r in results), Counter()) == Counter({"d": 26, "b": 53})
    assert all(not r.errors and not r.failed_files for r in results)
    assert DeliveryEvent.objects.filter(type="d", outcome="delivered").count() == 26
    totals = DailyStat.objects.aggregate(
        delivered=Sum("delivered"),
        hard=Sum("hard_bounces"),
        soft=Sum("soft_bounces"),
        transient=Sum("transient"),
    )
    assert totals["delivered"] == 26
    assert totals["hard"] + totals["soft"] == 53
    assert totals["transient"] == 0


def test_it_keeps_the_bounce_categories_the_rows_carry():
    _import_all()
    stored: Counter = Counter()
    for categories in DailyStat.objects.values_list("bounce_categories", flat=True):
        stored.update(categories)
    assert stored == _bounce_categories_in_files()
    assert set(stored) >= {
        "bad-domain",
        "bad-mailbox",
        "invalid-mailbox",
        "other",
        "routing-errors",
        "spam-related",
    }


def test_it_splits_hard_and_soft_by_category_and_diagnostic():
    _import_all()
    by_cat = Counter()
    for cat, outcome in DeliveryEvent.objects.filter(type="b").values_list("bounce_cat", "outcome"):
        by_cat[(cat, outcome)] += 1
    for cat in ("bad-mailbox", "bad-domain", "invalid-mailbox"):
        assert (cat, "soft_bounce") not in by_cat
    assert ("routing-errors", "hard_bounce") not in by_cat
    assert ("spam-related", "hard_bounce") not in by_cat
    # Yahoo's "mailbox not found" arrives as category other: the diagnostic makes it hard.
    assert by_cat[("other", "hard_bounce")] >= 1


def test_a_second_import_of_the_same_files_adds_nothing():
    _import_all()
    before = list(DailyStat.objects.order_by("pk").values())
    again = _import_all()
    assert sum(r.read for r in again) == 0
    assert sum(r.imported for r in again) == 0
    assert list(DailyStat.objects.order_by("pk").values()) == before
    assert DeliveryEvent.objects.count() == 79
    assert AccountingFile.objects.count() == 4
    assert all(f.status == AccountingFile.Status.DONE for f in AccountingFile.objects.all())


def test_a_copy_under_another_name_counts_as_duplicates(tmp_path):
    _import_all()
    copy = tmp_path / "copy.csv"
    copy.write_bytes(FILES[1].read_bytes())
    result = accounting_import_path(path=copy)
    assert (result.read, result.imported, result.duplicates) == (48, 0, 48)
    assert DailyStat.objects.aggregate(n=Sum("delivered"))["n"] == 26


def test_it_attributes_records_to_the_tenant_of_the_ip_pool_and_suppresses_hard_bounces(tenant_a):
    tenant_ip(tenant_a, "91.229.239.75")
    _import_all()
    tenant_events = DeliveryEvent.objects.filter(tenant=tenant_a)
    assert tenant_events.count() == DeliveryEvent.objects.filter(source_ip="91.229.239.75").count() > 0
    assert DeliveryEvent.objects.filter(tenant__isnull=True).exclude(source_ip="91.229.239.75").exists()
    assert DailyStat.objects.filter(tenant=tenant_a, source_ip="91.229.239.75").exists()
    hard_rcpts = {
        rcpt.lower() for rcpt in tenant_events.filter(outcome="hard_bounce").values_list("rcpt", flat=True)
    }
    assert hard_rcpts
    suppressed = set(Suppression.objects.filter(tenant=tenant_a).values_list("email", flat=True))
    assert suppressed == hard_rcpts
    assert set(Suppression.objects.values_list("reason", flat=True)) == {"hard_bounce"}
    # soft bounces and unknown-tenant bounces are not suppressed
    assert Suppression.objects.filter(tenant__isnull=True).count() == 0


def test_recipient_domain_comes_from_rcpt_not_queue():
    _import_all()
    for rcpt, domain in DeliveryEvent.objects.values_list("rcpt", "rcpt_domain"):
        assert domain == rcpt.rpartition("@")[2].lower()
