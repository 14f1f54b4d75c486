"""Prometheus metrics for blocklists, read from the database at scrape time (two queries per scrape)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger(__name__)

LISTED = ("emailengine_dnsbl_listed", "1 for each open blocklist listing", ["target", "list"])
DURATION = ("emailengine_dnsbl_sweep_duration_seconds", "How long the last finished sweep took")
LAST = ("emailengine_dnsbl_last_sweep_timestamp", "When the last sweep finished (Unix time)")
ERRORS = ("emailengine_dnsbl_last_sweep_errors", "Checks of the last sweep that got no verdict")


def _families() -> tuple[GaugeMetricFamily, ...]:
    return (
        GaugeMetricFamily(LISTED[0], LISTED[1], labels=LISTED[2]),
        GaugeMetricFamily(*DURATION),
        GaugeMetricFamily(*LAST),
        GaugeMetricFamily(*ERRORS),
    )


class DnsblCollector(Collector):
    def describe(self) -> Iterable[Metric]:
        # Without describe() the registry would call collect() at registration, i.e. query the database
        # while apps are still loading.
        return _families()

    def collect(self) -> Iterable[Metric]:
        from reputation.models import Listing, Sweep

        listed, duration, last, errors = _families()
        try:
            rows = list(
                Listing.objects.filter(cleared_at__isnull=True)
                .order_by("target", "blocklist__key")
                .values_list("target", "blocklist__key")
            )
            sweep = (
                Sweep.objects.filter(finished_at__isnull=False)
                .values("duration", "finished_at", "errors")
                .first()
            )
        except DatabaseError as exc:  # no database (yet): the rest of /metrics still works
            log.warning("dnsbl metrics unavailable: %s", exc)
            return
        for target, key in rows:
            listed.add_metric([target, key], 1)
        if sweep is not None:
            duration.add_metric([], sweep["duration"] or 0.0)
            last.add_metric([], sweep["finished_at"].timestamp())
            errors.add_metric([], sweep["errors"])
        yield from (listed, duration, last, errors)


_registered = False


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(DnsblCollector())
        _registered = True
