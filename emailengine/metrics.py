"""Cross-app Prometheus metrics: traffic since midnight UTC, the per-IP inventory, blocklist severities,
beat schedule intervals and Celery queue lengths.

Every collector reads at scrape time in a constant number of queries, whatever the fleet size:
- traffic comes from today's DailyStat rows only (one UTC day: the leading column of the daily_stat_key
  index), summed in Postgres;
- Celery queue lengths are one pipelined Redis round trip, cached for QUEUE_CACHE_SECONDS so frequent
  scrapes (or several Prometheus servers) do not hit the broker each time, with short socket timeouts so
  a broker outage cannot stall /metrics.

The traffic families are counters that reset at 00:00 UTC (Prometheus treats the drop as a counter
reset), so PromQL ``increase(x[24h])`` gives a rolling 24-hour window while Email Engine never scans more
than one day of aggregates. (Records for a day that arrive after midnight are not seen by the window.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "QUEUE_CACHE_SECONDS",
    "CeleryQueueCollector",
    "InventoryCollector",
    "ScheduleCollector",
    "TrafficCollector",
    "known_queues",
    "register",
    "reset_queue_cache",
]

log = logging.getLogger(__name__)

NO_TENANT = "(none)"
NO_CATEGORY = "(none)"
QUEUE_CACHE_SECONDS = 15.0
REDIS_TIMEOUT_SECONDS = 0.5
# kombu's Redis transport keeps a queue's prioritised messages in sibling lists "<queue>\x06\x16<step>".
_KOMBU_PRIORITY_SEP = "\x06\x16"
_KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)


# --- traffic since 00:00 UTC -------------------------------------------------------------------------


def _traffic_families() -> dict[str, CounterMetricFamily]:
    since = "counted since 00:00 UTC (resets daily; use increase() for a window)"
    return {
        "bounces": CounterMetricFamily(
            "emailengine_bounces", f"Bounce records (b/rb) by bounce category, {since}", labels=["category"]
        ),
        "complaints": CounterMetricFamily(
            "emailengine_complaints", f"Feedback-loop complaints (f records), {since}"
        ),
        "tenant_delivered": CounterMetricFamily(
            "emailengine_tenant_delivered", f"Delivered messages by tenant, {since}", labels=["tenant"]
        ),
        "tenant_bounces": CounterMetricFamily(
            "emailengine_tenant_bounces", f"Hard and soft bounces by tenant, {since}", labels=["tenant"]
        ),
        "tenant_blocks": CounterMetricFamily(
            "emailengine_tenant_blocks",
            f"Blocks (bounces in a block category, campaigns.stats) by tenant, {since}",
            labels=["tenant"],
        ),
        "tenant_complaints": CounterMetricFamily(
            "emailengine_tenant_complaints", f"Complaints by tenant, {since}", labels=["tenant"]
        ),
        "ip_delivered": CounterMetricFamily(
            "emailengine_ip_delivered", f"Delivered messages by sending IP, {since}", labels=["ip"]
        ),
        "ip_bounces": CounterMetricFamily(
            "emailengine_ip_bounces", f"Hard and soft bounces by sending IP, {since}", labels=["ip"]
        ),
        "ip_blocks": CounterMetricFamily(
            "emailengine_ip_blocks",
            f"Blocks (bounces in a block category, campaigns.stats) by sending IP, {since}",
            labels=["ip"],
        ),
        "ip_complaints": CounterMetricFamily(
            "emailengine_ip_complaints", f"Complaints by sending IP, {since}", labels=["ip"]
        ),
    }


def _utc_midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class TrafficCollector(Collector):
    """Three queries over today's DailyStat rows: by tenant, by sending IP, by bounce category."""

    def describe(self) -> Iterator[Metric]:
        # Given so that registering does not run collect(), i.e. query the database while apps load.
        yield from _traffic_families().values()

    def collect(self) -> Iterator[Metric]:
        from django.db import connection

        from campaigns import stats
        from campaigns.models import DailyStat

        families = _traffic_families()
        midnight = _utc_midnight(datetime.now(UTC))
        today = DailyStat.objects.filter(day=midnight.date()).order_by()
        sums = stats.sums(DailyStat)
        try:
            by_tenant = list(today.values("tenant__slug").annotate(**sums))
            by_ip = list(today.exclude(source_ip="").values("source_ip").annotate(**sums))
            inner_sql, params = today.values("bounce_categories").query.sql_with_params()
            with connection.cursor() as cursor:
                # Only Django's own compiled SQL is interpolated; values stay bound parameters.
                cursor.execute(
                    "SELECT c.key, SUM(c.value::bigint) "  # noqa: S608
                    f"FROM ({inner_sql}) AS s CROSS JOIN LATERAL jsonb_each_text(s.bounce_categories) AS c "
                    "GROUP BY c.key ORDER BY c.key",
                    params,
                )
                categories = cursor.fetchall()
        except Exception:  # a scrape must not fail because the database is away
            log.warning("traffic metrics unavailable", exc_info=True)
            return
        complaints = 0
        for row in by_tenant:
            tenant = row["tenant__slug"] or NO_TENANT
            c = stats.Counts.from_row(row)
            families["tenant_delivered"].add_metric([tenant], c.delivered)
            families["tenant_bounces"].add_metric([tenant], c.bounces)
            families["tenant_blocks"].add_metric([tenant], c.blocked)
            families["tenant_complaints"].add_metric([tenant], c.complaints)
            complaints += c.complaints
        for ip_row in by_ip:
            ip = ip_row["source_ip"]
            c = stats.Counts.from_row(ip_row)
            families["ip_delivered"].add_metric([ip], c.delivered)
            families["ip_bounces"].add_metric([ip], c.bounces)
            families["ip_blocks"].add_metric([ip], c.blocked)
            families["ip_complaints"].add_metric([ip], c.complaints)
        for category, count in categories:
            families["bounces"].add_metric([category or NO_CATEGORY], int(count or 0))
        families["complaints"].add_metric([], complaints)
        yield from families.values()


# --- inventory: one series per IP and per blocklist, for dashboard variables and alert joins ---------


def _inventory_families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "emailengine_ip_info",
            "1 per IP address in the inventory; labels carry its status, server, pool and tenant",
            labels=["ip", "status", "server", "pool", "tenant"],
        ),
        GaugeMetricFamily(
            "emailengine_blocklist_info",
            "1 per enabled blocklist; join on list to filter emailengine_dnsbl_listed by severity and scope "
            "(ip, subnet, asn, domain: what a listing is about)",
            labels=["list", "severity", "kind", "scope"],
        ),
    )


class InventoryCollector(Collector):
    """Two queries: every IP with its server, pool and tenant (joined), and the blocklist catalogue."""

    def describe(self) -> Iterator[Metric]:
        yield from _inventory_families()

    def collect(self) -> Iterator[Metric]:
        from ips.models import IPAddress
        from reputation.models import Blocklist

        ip_info, blocklist_info = _inventory_families()
        try:
            ips = list(
                IPAddress.objects.order_by("address").values_list(
                    "address", "status", "server__name", "pool__name", "pool__tenant__slug"
                )
            )
            lists = list(
                Blocklist.objects.filter(enabled=True)
                .order_by("key")
                .values_list("key", "severity", "kind", "scope")
            )
        except Exception:
            log.warning("inventory metrics unavailable", exc_info=True)
            return
        for address, status, server, pool, tenant in ips:
            ip_info.add_metric([address, status, server or "", pool or "", tenant or NO_TENANT], 1)
        for key, severity, kind, scope in lists:
            blocklist_info.add_metric([key, severity, kind, scope], 1)
        yield ip_info
        yield blocklist_info


# --- the beat schedule: how often each job is meant to run ---------------------------------------------


def _interval_seconds(schedule: object, now: datetime) -> float | None:
    """Seconds between two runs of a beat schedule entry (a number, timedelta, schedule or crontab)."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    run_every = getattr(schedule, "run_every", None)
    if isinstance(run_every, timedelta):
        return run_every.total_seconds()
    remaining = getattr(schedule, "remaining_estimate", None)
    if remaining is None:
        return None
    # crontab: the gap between its next two runs. remaining_estimate(t) is "next run after t" minus now.
    first = now + remaining(now)
    second = now + remaining(first + timedelta(seconds=1))
    return float(max(0, round((second - first).total_seconds())))


class ScheduleCollector(Collector):
    """No I/O: read from the Celery app's beat_schedule, so alert rules can scale staleness by interval."""

    def describe(self) -> Iterator[Metric]:
        yield self._family()

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "emailengine_job_interval_seconds",
            "How often each scheduled (beat) job is meant to run; compare emailengine_job_last_success_"
            "timestamp_seconds",
            labels=["job", "task"],
        )

    def collect(self) -> Iterator[Metric]:
        from emailengine.celery import app

        family = self._family()
        now = datetime.now(UTC)
        for job, entry in sorted((app.conf.beat_schedule or {}).items()):
            try:
                seconds = _interval_seconds(entry.get("schedule"), now)
            except Exception:
                log.warning("cannot work out the interval of beat job %s", job, exc_info=True)
                continue
            if seconds is not None:
                family.add_metric([job, str(entry.get("task", ""))], seconds)
        yield family


# --- Celery queue lengths (Redis broker only) -------------------------------------------------------


def known_queues() -> list[str]:
    """Queue names the Celery config knows: the default queue, declared queues, and routing targets."""
    from emailengine import celery

    conf = celery.app.conf
    names = {conf.task_default_queue or "celery"}
    names.update(name for name in getattr(celery, "TASK_QUEUES", ()) if isinstance(name, str))
    for queue in conf.task_queues or ():
        name = getattr(queue, "name", queue)
        if isinstance(name, str):
            names.add(name)
    routes = conf.task_routes or {}
    for route in routes.values() if isinstance(routes, dict) else ():
        if isinstance(route, dict) and isinstance(route.get("queue"), str):
            names.add(route["queue"])
        elif isinstance(route, str):
            names.add(route)
    return sorted(name for name in names if name)


_queue_lock = threading.Lock()
_queue_cache: dict[str, Any] = {}


def reset_queue_cache() -> None:
    with _queue_lock:
        _queue_cache.clear()


def _queue_lengths(broker_url: str, queues: list[str]) -> dict[str, int] | None:
    """LLEN of each queue (summed over kombu's priority lists) in one round trip; None if unreachable."""
    import redis

    client = redis.Redis.from_url(
        broker_url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for step in _KOMBU_PRIORITY_STEPS:
                pipe.llen(f"{queue}{_KOMBU_PRIORITY_SEP}{step}" if step else queue)
        counts = pipe.execute()
    except Exception as exc:
        log.warning("celery queue lengths unavailable: %s", exc)
        return None
    finally:
        client.close()
    steps = len(_KOMBU_PRIORITY_STEPS)
    return {queue: sum(counts[i * steps : (i + 1) * steps]) for i, queue in enumerate(queues)}


class CeleryQueueCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        yield self._family()

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "emailengine_celery_queue_length",
            "Messages waiting in each known Celery queue (Redis broker only; cached for 15 s)",
            labels=["queue"],
        )

    def collect(self) -> Iterator[Metric]:
        from django.conf import settings

        family = self._family()
        broker_url = str(settings.CELERY_BROKER_URL or "")
        if broker_url.split("://", 1)[0] not in ("redis", "rediss"):
            yield family  # the filesystem broker (laptops) has no cheap length: no series
            return
        queues = known_queues()
        key = (broker_url, tuple(queues))
        with _queue_lock:
            cached = _queue_cache.get("value")
            fresh = (
                cached is not None and cached[0] == key and time.monotonic() - cached[1] < QUEUE_CACHE_SECONDS
            )
            if not fresh:
                # A failed read is cached too: a dead broker costs one timeout per interval, not per scrape.
                _queue_cache["value"] = (key, time.monotonic(), _queue_lengths(broker_url, queues))
            lengths = _queue_cache["value"][2]
        for queue, length in sorted((lengths or {}).items()):
            family.add_metric([queue], length)
        yield family


# --- registration -----------------------------------------------------------------------------------

_registered = False
_register_lock = threading.Lock()


def register() -> None:
    """Register once per process (AppConfig.ready can run more than once in some test setups)."""
    global _registered
    with _register_lock:
        if _registered:
            return
        for collector in (
            TrafficCollector(),
            InventoryCollector(),
            ScheduleCollector(),
            CeleryQueueCollector(),
        ):
            REGISTRY.register(collector)
        _registered = True
