"""Delivery events by day: partitions made ahead, late records settled, dedup across them, prune by drop."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from campaigns import tasks
from campaigns.accounting.importer import accounting_events_prune, accounting_import_body
from campaigns.accounting.partitions import (
    DEFAULT_PARTITION,
    event_partitions_ensure,
    event_partitions_prune,
    partition_days,
    partition_name,
)
from campaigns.models import DailyStat, DeliveryEvent, Suppression
from campaigns.tests.factories import bounce, csv_text, record, server_with_token, tenant_ip
from emailengine.celery import app

pytestmark = pytest.mark.django_db

EVENT = DeliveryEvent._meta.db_table
TODAY = date(2031, 3, 10)  # far from any day the migration made a partition for


def _when(day: date, hour: int = 12) -> str:
    return f"{day.isoformat()} {hour:02d}:00:00+0000"


def _post(server, records) -> dict:
    return accounting_import_body(
        server=server, body=csv_text(records).encode(), content_type="text/csv"
    ).as_dict()


def _where() -> dict[str, int]:
    """Rows per partition holding them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text, count(*) FROM {EVENT} GROUP BY 1"  # noqa: S608
        )
        return dict(cursor.fetchall())


@pytest.fixture
def server(tenant_a):
    server, _token = server_with_token()
    tenant_ip(tenant_a, "203.0.113.10", server)
    return server


def test_it_makes_today_and_the_days_ahead(db):
    report = event_partitions_ensure(today=TODAY, ahead=3)
    days = [TODAY + timedelta(days=n) for n in range(4)]
    assert report.created == [partition_name(day) for day in days]
    assert set(days) <= set(partition_days())
    assert event_partitions_ensure(today=TODAY, ahead=3).created == []  # made once


def test_records_of_a_day_without_partition_wait_in_the_default_one_and_are_settled(server):
    late = TODAY - timedelta(days=2)
    assert (
        _post(server, [record(rcpt=f"u{i}@example.org", timeLogged=_when(late)) for i in range(3)])[
            "imported"
        ]
        == 3
    )
    assert _where() == {DEFAULT_PARTITION: 3}
    report = event_partitions_ensure(today=TODAY, ahead=0)
    assert report.settled == 3 and partition_name(late) in report.created
    assert _where() == {partition_name(late): 3}
    # Once settled, a re-sent record is still a duplicate, and a new one of that day goes straight there.
    again = _post(server, [record(rcpt=f"u{i}@example.org", timeLogged=_when(late)) for i in range(4)])
    assert (again["imported"], again["duplicates"]) == (1, 3)
    assert _where() == {partition_name(late): 4}
    assert DailyStat.objects.get().delivered == 4


def test_a_batch_across_partitions_and_the_default_one_dedups_through_the_slow_path(server):
    event_partitions_ensure(today=TODAY, ahead=0)
    records = [
        record(rcpt="a@example.org", timeLogged=_when(TODAY)),
        record(rcpt="b@example.org", timeLogged=_when(TODAY - timedelta(days=5))),
    ]
    assert _post(server, records)["imported"] == 2
    assert _where() == {partition_name(TODAY): 1, DEFAULT_PARTITION: 1}
    mixed = _post(server, [*records, record(rcpt="c@example.org", timeLogged=_when(TODAY, 13))])
    assert (mixed["imported"], mixed["duplicates"]) == (1, 2)
    assert _where() == {partition_name(TODAY): 2, DEFAULT_PARTITION: 1}


def test_the_prune_drops_whole_days_past_retention(server, settings):
    settings.ACCOUNTING_EVENT_RETENTION_DAYS = 30
    old, kept = TODAY - timedelta(days=31), TODAY - timedelta(days=29)
    records = [
        bounce("gone@example.org", timeLogged=_when(old)),
        record(rcpt="x@example.org", timeLogged=_when(old)),
        record(rcpt="y@example.org", timeLogged=_when(kept)),
        record(rcpt="z@example.org", timeLogged=_when(TODAY - timedelta(days=400))),  # stays in the default
    ]
    for day in (old, kept):  # made when those days were today
        event_partitions_ensure(today=day, ahead=0)
    _post(server, records)
    assert _where() == {partition_name(old): 2, partition_name(kept): 1, DEFAULT_PARTITION: 1}
    suppression = Suppression.objects.get()
    assert suppression.source_event is not None
    stats = DailyStat.objects.count()

    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    report = event_partitions_prune(now=now)
    assert partition_name(old) in report.dropped and partition_name(kept) not in report.dropped
    assert report.pruned == 3
    assert old not in partition_days() and kept in partition_days()
    assert _where() == {partition_name(kept): 1}
    suppression.refresh_from_db()
    assert suppression.source_event is None and "bad-mailbox" in suppression.detail
    assert DailyStat.objects.count() == stats  # the counts stay
    assert accounting_events_prune(now=now) == 0


def test_a_day_left_detached_by_an_interrupted_prune_is_dropped_by_the_next(server, settings):
    settings.ACCOUNTING_EVENT_RETENTION_DAYS = 30
    old = TODAY - timedelta(days=31)
    event_partitions_ensure(today=old, ahead=0)
    _post(server, [record(rcpt="x@example.org", timeLogged=_when(old))])
    with connection.cursor() as cursor:  # the prune's first step, without its second
        cursor.execute(f"ALTER TABLE {EVENT} DETACH PARTITION {partition_name(old)}")
    assert old not in partition_days()

    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
    report = event_partitions_prune(now=now)
    assert partition_name(old) in report.dropped and report.pruned >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition_name(old)])
        assert cursor.fetchone()[0] is None


def test_the_jobs_are_scheduled_and_report_what_they_did(db):
    schedule = app.conf.beat_schedule
    assert schedule["accounting-event-partitions"]["task"] == "campaigns.tasks.accounting_event_partitions"
    assert schedule["accounting-prune-events"]["task"] == "campaigns.tasks.accounting_prune_events"
    report = tasks.accounting_event_partitions_task()
    assert set(report) == {"created", "settled", "dropped", "pruned"}


def test_the_primary_key_contains_the_partition_key_and_django_still_finds_events_by_id(server):
    _post(server, [record(rcpt="a@example.org", timeLogged=_when(TODAY))])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'p'",
            [EVENT],
        )
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, time_logged)"
    event = DeliveryEvent.objects.get()
    assert DeliveryEvent.objects.get(pk=event.pk).rcpt == "a@example.org"
    event.delete()
    assert not DeliveryEvent.objects.exists()
