"""Prometheus metrics for blocklists, read from the database at scrape time (three queries per scrape)."""

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
BREAKER = (
    "emailengine_dnsbl_breaker_tripped",
    "1 while a list's circuit breaker is tripped (it reported a large share of the swept IPs at once; "
    "its listings hold no IP), 0 otherwise",
    ["list"],
)


def _families() -> tuple[GaugeMetricFamily, ...]:
    return (
        GaugeMetricFamily(LISTED[0], LISTED[1], labels=LISTED[2]),
        GaugeMetricFamily(*DURATION),
        GaugeMetricFamily(*LAST),
        GaugeMetricFamily(*ERRORS),
        GaugeMetricFamily(BREAKER[0], BREAKER[1], labels=BREAKER[2]),
    )


class DnsblCollector(Collector):
    def describe(self) -> Iterable[Metric]:
        # Without describe() the registry would call collect() at registration, i.e. query the database
        # while apps are still loading.
        return _families()

    def collect(self) -> Iterable[Metric]:
        from reputation.models import Blocklist, Listing, Sweep

        listed, duration, last, errors, breaker = _families()
        try:
            rows = list(
                Listing.objects.filter(cleared_at__isnull=True)
                .order_by("target", "blocklist__key")
                .values_list("target", "blocklist__key")
            )
            breakers = list(
                Blocklist.objects.filter(enabled=True)
                .order_by("key")
                .values_list("key", "breaker_tripped_at")
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
            last.add_metric([], sweep["finished_at"].timestamp() if sweep["finished_at"] else 0.0)
            errors.add_metric([], sweep["errors"])
        for key, tripped_at in breakers:
            breaker.add_metric([key], 1 if tripped_at else 0)
        yield from (listed, duration, last, errors, breaker)


class ProviderCollector(Collector):
    """Two queries: each domain's latest Postmaster Tools day and each IP's latest SNDS period."""

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "emailengine_postmaster_spam_rate",
                "Gmail user-reported spam rate (a fraction) of a sending domain, latest Postmaster Tools day",
                labels=["domain", "day"],
            ),
            GaugeMetricFamily(
                "emailengine_postmaster_needs_work",
                "1 per bulk-sender requirement Postmaster Tools marks NEEDS_WORK for a domain",
                labels=["domain", "requirement"],
            ),
            GaugeMetricFamily(
                "emailengine_snds_filter_red",
                "1 when the IP's latest SNDS filter result is RED, 0 when GREEN or YELLOW",
                labels=["ip", "result"],
            ),
            GaugeMetricFamily(
                "emailengine_snds_trap_hits", "Spam-trap hits of the IP's latest SNDS period", labels=["ip"]
            ),
        )

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        from reputation.models import PostmasterDomainStat, SndsIpStat

        spam, needs, red, traps = self._families()
        try:
            domains = list(
                PostmasterDomainStat.objects.order_by("domain_id", "-day")
                .distinct("domain_id")
                .values_list("domain__name", "day", "spam_rate", "compliance")
            )
            ips = list(
                SndsIpStat.objects.order_by("address", "-activity_end")
                .distinct("address")
                .values_list("address", "filter_result", "trap_hits")
            )
        except DatabaseError as exc:
            log.warning("provider metrics unavailable: %s", exc)
            return
        for name, day, rate, compliance in domains:
            if rate is not None:
                spam.add_metric([name, day.isoformat()], rate)
            for requirement, status in sorted((compliance or {}).items()):
                if status == "NEEDS_WORK":
                    needs.add_metric([name, requirement], 1)
        for address, result, hits in ips:
            red.add_metric([address, result], 1 if result == "RED" else 0)
            traps.add_metric([address], hits)
        yield from (spam, needs, red, traps)


_registered = False


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(DnsblCollector())
        REGISTRY.register(ProviderCollector())
        _registered = True
