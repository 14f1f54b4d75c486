"""Prometheus gauges for PMTA hosts and the IP inventory, read from the database at scrape time.

The values are the latest health poll and config delivery state stored on each MtaServer (ips/health.py,
ips/agent.py), so a scrape costs three queries whatever the number of servers or IPs, and never talks to a
PMTA host itself.
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
from ips.selectors import servers_config_state

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
        # Config delivery (ee-agent). Versions are per server: 1, 2, 3 ... as the render changes.
        "desired": GaugeMetricFamily(
            "emailengine_pmta_config_desired_version",
            "The server's latest rendered PMTA config version (absent before the first render)",
            labels=["server"],
        ),
        "applied": GaugeMetricFamily(
            "emailengine_pmta_config_applied_version",
            "The config version the server's agent last applied (0 when never)",
            labels=["server"],
        ),
        "drift": GaugeMetricFamily(
            "emailengine_pmta_config_drift",
            "1 while the applied config version is not the desired one",
            labels=["server"],
        ),
        "applied_at": GaugeMetricFamily(
            "emailengine_pmta_config_applied_timestamp_seconds",
            "When the agent last applied a new version (absent when never)",
            labels=["server"],
        ),
        "seen": GaugeMetricFamily(
            "emailengine_pmta_agent_last_seen_timestamp_seconds",
            "When the server's agent last fetched or reported (0 when never)",
            labels=["server"],
        ),
        "error": GaugeMetricFamily(
            "emailengine_pmta_agent_error",
            "1 if the agent's last apply failed (the error is on the server page)",
            labels=["server"],
        ),
        "pending": GaugeMetricFamily(
            "emailengine_pmta_commands_pending",
            "pmta commands (pause/resume queue ...) waiting for the server's agent",
            labels=["server"],
        ),
    }


class MtaCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        # Given so registering does not call collect() (which queries the database) at app start.
        yield from _families().values()

    def collect(self) -> Iterator[Metric]:
        families = _families()
        try:
            rows = list(
                MtaServer.objects.order_by("name").values_list(
                    "pk",
                    "name",
                    "health_up",
                    "health_queued_rcp",
                    "health_smtp_out_conn",
                    "health_backoff_queues",
                )
            )
            states = servers_config_state()
            ip_counts = dict(
                IPAddress.objects.order_by()
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        except DatabaseError:
            logger.warning("metrics: database unavailable, ips gauges skipped", exc_info=True)
            return
        names = {row[0]: row[1] for row in rows}
        for _pk, name, up, queued, conn, backoff in rows:
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
        for pk, state in sorted(states.items(), key=lambda item: names.get(item[0], "")):
            if pk not in names:
                continue  # created between the two queries
            label = [names[pk]]
            if state.desired_version is not None:
                families["desired"].add_metric(label, state.desired_version)
            families["applied"].add_metric(label, state.applied_version or 0)
            families["drift"].add_metric(label, 1 if state.drift else 0)
            if state.applied_at is not None:
                families["applied_at"].add_metric(label, state.applied_at.timestamp())
            seen = state.agent_last_seen.timestamp() if state.agent_last_seen else 0
            families["seen"].add_metric(label, seen)
            families["error"].add_metric(label, 1 if state.last_error else 0)
            families["pending"].add_metric(label, state.pending_commands)
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
