"""Prometheus gauges for sending-domain DNS checks, read from the stored results in one query per scrape.

The values are the latest DomainCheck rows written by the scheduled re-check (domains/tasks.py); a scrape
never resolves anything itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["DomainCheckCollector", "register"]

log = logging.getLogger(__name__)


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "emailengine_domain_check_status",
            "1 labelled with the current status (ok, warning, missing, invalid, unknown) of each check",
            labels=["domain", "tenant", "check", "status"],
        ),
        GaugeMetricFamily(
            "emailengine_domain_check_timestamp_seconds",
            "When each DNS check of each sending domain last ran (Unix time)",
            labels=["domain", "check"],
        ),
    )


class DomainCheckCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        # Given so registering does not call collect() (a database query) while apps are loading.
        yield from _families()

    def collect(self) -> Iterator[Metric]:
        from domains.models import DomainCheck

        status, checked = _families()
        try:
            rows = list(
                DomainCheck.objects.order_by("domain__name", "name").values_list(
                    "domain__name", "domain__tenant__slug", "name", "status", "checked_at"
                )
            )
        except Exception:  # a scrape must not fail because the database is away
            log.warning("domain check metrics unavailable", exc_info=True)
            return
        for domain, tenant, check, state, checked_at in rows:
            # Only the current status is emitted (value 1): five series per check would be mostly zeros.
            status.add_metric([domain, tenant or "", check, state], 1)
            checked.add_metric([domain, check], checked_at.timestamp())
        yield status
        yield checked


_registered = False
_lock = threading.Lock()


def register() -> None:
    """Register once per process (AppConfig.ready can run again in some test setups)."""
    global _registered
    with _lock:
        if _registered:
            return
        REGISTRY.register(DomainCheckCollector())
        _registered = True
