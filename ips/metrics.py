"""Prometheus gauges for PMTA hosts and the IP inventory, read from the database at scrape time.

The values are the latest health poll stored on each MtaServer (ips/health.py), so a scrape costs two
queries whatever the number of servers or IPs, and never talks to a PMTA host itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ips.models import IPAddress, IPStatus, MtaServer

__all__ = ["MtaCollector", "register_collector"]

logger = logging.getLogger(__name__)


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "up": GaugeMetricFamily(
            "emailengine_mta_up",
            "1 if the PMTA host answered its last health poll, 0 if not; absent when never polled",
            labels=["server"],
        ),
        "queued": GaugeMetricFamily(
            "emailengine_mta_queued_recipients",
            "Recipients in the PMTA host's SMTP queues at the last poll",
            labels=["server"],
        ),
        "conn": GaugeMetricFamily(
            "emailengine_mta_smtp_out_connections",
            "Open outbound SMTP connections at the last poll",
            labels=["server"],
        ),
        "backoff": GaugeMetricFamily(
            "emailengine_mta_backoff_queues",
            "Queues in backoff mode among those listed by the host at the last successful poll",
            labels=["server"],
        ),
        "ips": GaugeMetricFamily(
            "emailengine_ips", "IP addresses in the inventory by status", labels=["status"]
        ),
    }


class MtaCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        # Given so registering does not call collect() (which queries the database) at app start.
        yield from _families().values()

    def collect(self) -> Iterator[Metric]:
        families = _families()
        try:
            servers = list(
                MtaServer.objects.order_by("name").values_list(
                    "name", "health_up", "health_queued_rcp", "health_smtp_out_conn", "health_backoff_queues"
                )
            )
            ip_counts = dict(
                IPAddress.objects.order_by()
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        except DatabaseError:
            logger.warning("metrics: database unavailable, ips gauges skipped", exc_info=True)
            return
        for name, up, queued, conn, backoff in servers:
            if up is None:
                continue  # never polled or not pollable: absent, not a false "down"
            families["up"].add_metric([name], 1 if up else 0)
            if not up:
                continue  # a down host's numbers are stale
            if queued is not None:
                families["queued"].add_metric([name], queued)
            if conn is not None:
                families["conn"].add_metric([name], conn)
            families["backoff"].add_metric([name], len(backoff) if isinstance(backoff, list) else 0)
        for status in IPStatus.values:
            families["ips"].add_metric([status], ip_counts.get(status, 0))
        yield from families.values()


_registered = False
_lock = threading.Lock()


def register_collector() -> None:
    """Register once per process (AppConfig.ready can run again in some test setups)."""
    global _registered
    with _lock:
        if _registered:
            return
        REGISTRY.register(MtaCollector())
        _registered = True
