"""Delivery events partitioned by UTC day: partitions made ahead, late records settled, retention by drop.

``campaigns_deliveryevent`` is ``PARTITION BY RANGE (time_logged)`` (migration 0012): one partition per
UTC day, named ``campaigns_deliveryevent_pYYYYMMDD``, plus a DEFAULT partition that catches any record
whose day has no partition yet (a late record from a PMTA host's spool, a clock in the future), so no
record is ever refused. The scheduled job (``accounting-event-partitions``, emailengine/celery.py)
creates the coming days' partitions and moves what the default partition holds into partitions of its
own, so the default stays small: creating or attaching a partition scans it.

Retention detaches whole partitions and drops them (a catalog change, no row-by-row delete and no bloat),
once the day is entirely older than ACCOUNTING_EVENT_RETENTION_DAYS; records in the default partition
past it are deleted. Suppressions keep their ``detail`` and lose only the link to the dropped events.

DDL takes a lock on the event table; ``lock_timeout`` keeps it from queueing behind a long dashboard
query (and everything behind it): a run that cannot get its lock fails and the next run retries.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import DeliveryEvent, Suppression

log = logging.getLogger(__name__)

EVENT = DeliveryEvent._meta.db_table
SUPPRESSION = Suppression._meta.db_table
DEFAULT_PARTITION = f"{EVENT}_default"
# Days made ahead of today (UTC): records of tomorrow's first minutes never wait for a job run.
DAYS_AHEAD = 3
LOCK_TIMEOUT = "5s"
_NAME = re.compile(rf"^{EVENT}_p(\d{{8}})$")
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"campaigns.event_partitions").digest()[:8], "big", signed=True)


def partition_name(day: date) -> str:
    return f"{EVENT}_p{day:%Y%m%d}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def retention_days() -> int:
    return settings.ACCOUNTING_EVENT_RETENTION_DAYS


def partition_days() -> list[date]:
    """The days that have a partition, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [EVENT],
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(
        date(int(m[1][:4]), int(m[1][4:6]), int(m[1][6:])) for name in names if (m := _NAME.match(name))
    )


@dataclass
class PartitionReport:
    """What one maintenance run did."""

    created: list[str] = field(default_factory=list)
    settled: int = 0  # records moved out of the default partition
    dropped: list[str] = field(default_factory=list)
    pruned: int = 0  # records removed by retention (dropped partitions and old default rows)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "settled": self.settled,
            "dropped": self.dropped,
            "pruned": self.pruned,
        }


class _run_lock:
    """One maintenance run at a time (a transaction-level advisory lock would end with each step)."""

    def __enter__(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
            self.locked = bool(cursor.fetchone()[0])
        return self.locked

    def __exit__(self, *exc: object) -> None:
        if self.locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def _set_lock_timeout(cursor) -> None:
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


def event_partitions_ensure(*, today: date | None = None, ahead: int = DAYS_AHEAD) -> PartitionReport:
    """Create the partitions of today and the ``ahead`` days after it, then settle the default partition.

    Settling: each day the default partition holds records of (and within retention) gets its own
    partition, and the records move into it in one transaction; records past retention are left to
    the prune.
    """
    today = today or timezone.now().astimezone(UTC).date()
    report = PartitionReport()
    with _run_lock() as locked:
        if not locked:
            log.info("event partitions: another run is busy")
            return report
        existing = set(partition_days())
        for offset in range(ahead + 1):
            day = today + timedelta(days=offset)
            if day not in existing:
                _settle_day(day, report)
                existing.add(day)
        oldest = today - timedelta(days=retention_days())
        for day in _default_days():
            if day >= oldest and day not in existing:
                _settle_day(day, report)
                existing.add(day)
    return report


def _default_days() -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT (time_logged AT TIME ZONE 'UTC')::date FROM {DEFAULT_PARTITION} ORDER BY 1"  # noqa: S608
        )
        return [row[0] for row in cursor.fetchall()]


def _settle_day(day: date, report: PartitionReport) -> None:
    """Give ``day`` its partition, moving the default partition's records of that day into it.

    The table is built beside the event table, filled, and attached: attaching takes a lighter lock
    than CREATE TABLE ... PARTITION OF, and the CHECK constraint spares it a scan of the new table.
    """
    name = partition_name(day)
    lo, hi = day_bounds(day)
    with transaction.atomic(), connection.cursor() as cursor:
        _set_lock_timeout(cursor)
        cursor.execute(f"CREATE TABLE {name} (LIKE {EVENT} INCLUDING DEFAULTS)")
        cursor.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_range"
            " CHECK (time_logged IS NOT NULL AND time_logged >= %s AND time_logged < %s)",
            [lo, hi],
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE time_logged >= %s AND time_logged < %s"  # noqa: S608
            f" RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [lo, hi],
        )
        moved = cursor.rowcount
        cursor.execute(f"ALTER TABLE {EVENT} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [lo, hi])
        cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")
    report.created.append(name)
    report.settled += max(moved, 0)
    if moved > 0:
        log.info("event partitions: %d records of %s moved out of the default partition", moved, day)


def event_partitions_prune(*, days: int | None = None, now: datetime | None = None) -> PartitionReport:
    """Drop the partitions of days entirely older than the retention; delete such records from the
    default partition. Daily stats are kept; suppressions lose only the link to their event.

    A day goes in two short transactions: its suppressions are unlinked and the partition is detached
    (a catalog change: the event table's lock is held only for that), then the detached table is
    dropped, which takes no lock on the event table at all, so the removal of its files never holds
    up a dashboard query. ``DETACH ... CONCURRENTLY`` would not help: PostgreSQL refuses it on a
    table with a default partition (https://www.postgresql.org/docs/15/sql-altertable.html, DETACH
    PARTITION). A day left detached by an interrupted run is dropped by the next one.
    """
    days = retention_days() if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    report = PartitionReport()
    for day in partition_days():
        if day_bounds(day)[1] > cutoff:
            break
        name = partition_name(day)
        with transaction.atomic(), connection.cursor() as cursor:
            _set_lock_timeout(cursor)
            _unlink_suppressions(cursor, name)
            cursor.execute(f"ALTER TABLE {EVENT} DETACH PARTITION {name}")
        report.pruned += _drop_detached(name)
        report.dropped.append(name)
    for day in _detached_days():
        if day_bounds(day)[1] <= cutoff:
            name = partition_name(day)
            report.pruned += _drop_detached(name)
            report.dropped.append(name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SUPPRESSION} SET source_event_id = NULL WHERE source_event_id IN"  # noqa: S608
            f" (SELECT id FROM {DEFAULT_PARTITION} WHERE time_logged < %s)",
            [cutoff],
        )
        cursor.execute(f"DELETE FROM {DEFAULT_PARTITION} WHERE time_logged < %s", [cutoff])  # noqa: S608
        report.pruned += cursor.rowcount
    return report


def _detached_days() -> list[date]:
    """Days whose table is still there but no longer a partition (a prune stopped between its two steps)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND NOT c.relispartition"
            " AND starts_with(c.relname, %s) AND pg_table_is_visible(c.oid)",
            [f"{EVENT}_p"],
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(
        date(int(m[1][:4]), int(m[1][4:6]), int(m[1][6:])) for name in names if (m := _NAME.match(name))
    )


def _drop_detached(name: str) -> int:
    """Drop a detached day table; returns the rows it held. Counted once detached: the count reads the
    day (its primary key index, when VACUUM has marked the day all-visible) without holding any lock on
    the event table. The planner's estimate (pg_class.reltuples) would spare it, but goes stale."""
    with transaction.atomic(), connection.cursor() as cursor:
        _set_lock_timeout(cursor)
        cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608
        rows = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {name}")
    return rows


def _unlink_suppressions(cursor, partition: str) -> None:
    """Suppressions that point at the partition's events lose the link. Event ids grow with time, so
    the partition's id range narrows the suppressions to look at to about that day's, through the
    index on source_event_id, instead of every suppression."""
    cursor.execute(f"SELECT min(id), max(id) FROM {partition}")  # noqa: S608
    lo, hi = cursor.fetchone()
    if lo is None:
        return
    cursor.execute(
        f"UPDATE {SUPPRESSION} SET source_event_id = NULL WHERE source_event_id BETWEEN %s AND %s"  # noqa: S608
        f" AND source_event_id IN (SELECT id FROM {partition} WHERE id BETWEEN %s AND %s)",
        [lo, hi, lo, hi],
    )
