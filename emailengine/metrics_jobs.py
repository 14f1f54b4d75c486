"""Prometheus gauges for scheduled jobs, read from ScheduledJobState at scrape time (one small query).

Alert on `time() - emailengine_job_last_success_timestamp_seconds{job="..."}` growing past the job's
interval: it catches a stopped beat, a dead worker queue and a job that keeps failing alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, CounterMetricFamily]:
    return (
        GaugeMetricFamily(
            "emailengine_job_last_success_timestamp_seconds",
            "Unix time the scheduled job last finished without an error",
            labels=["job"],
        ),
        GaugeMetricFamily(
            "emailengine_job_last_duration_seconds",
            "How long the scheduled job's latest finished run took",
            labels=["job"],
        ),
        GaugeMetricFamily(
            "emailengine_job_last_run_failed",
            "1 when the scheduled job's latest finished run raised an error, else 0",
            labels=["job"],
        ),
        CounterMetricFamily(
            "emailengine_job_failures",
            "Failed runs of the scheduled job since it was first recorded",
            labels=["job"],
        ),
    )


class JobsCollector(Collector):
    def describe(self) -> Iterator:
        # Without describe(), registering would call collect() and query the database at start-up.
        yield from _families()

    def collect(self) -> Iterator:
        success, duration, failed, failures = _families()
        try:
            from core.models import ScheduledJobState

            rows = ScheduledJobState.objects.values_list(
                "name", "last_success_at", "last_duration_ms", "last_ok", "failures"
            )
            for name, last_success_at, duration_ms, last_ok, failure_count in rows:
                if last_success_at is not None:
                    success.add_metric([name], last_success_at.timestamp())
                if duration_ms is not None:
                    duration.add_metric([name], duration_ms / 1000)
                if last_ok is not None:
                    failed.add_metric([name], 0 if last_ok else 1)
                failures.add_metric([name], failure_count)
        except Exception:  # a scrape must not fail because the database is away
            log.warning("scheduled job metrics unavailable", exc_info=True)
            return
        yield success
        yield duration
        yield failed
        yield failures


_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    from prometheus_client import REGISTRY

    REGISTRY.register(JobsCollector())
    _registered = True
