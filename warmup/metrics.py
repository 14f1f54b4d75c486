"""Prometheus gauges for warmup, computed at scrape time in a constant number of queries."""

from collections.abc import Iterator

from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from core.dates import utc_today

_registered = False


class WarmupCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registering must not touch the database (it happens at import time, before migrations).
        yield GaugeMetricFamily("emailengine_warmup_daily_limit", "", labels=["ip"])
        yield GaugeMetricFamily("emailengine_warmup_sent_today", "", labels=["ip"])
        yield GaugeMetricFamily("emailengine_warmup_status", "", labels=["ip", "status"])
        yield GaugeMetricFamily("emailengine_warmup_over_limit", "", labels=["ip"])
        yield GaugeMetricFamily("emailengine_warmup_delivered_today", "", labels=["ip"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from warmup.models import IPWarmup
        from warmup.selectors import counts_on, is_over_limit

        limit = GaugeMetricFamily(
            "emailengine_warmup_daily_limit", "Current daily limit of a warming IP", labels=["ip"]
        )
        sent = GaugeMetricFamily(
            "emailengine_warmup_sent_today", "Messages attempted today by a warming IP", labels=["ip"]
        )
        status = GaugeMetricFamily(
            "emailengine_warmup_status", "1 for the warmup status each IP is in", labels=["ip", "status"]
        )
        over = GaugeMetricFamily(
            "emailengine_warmup_over_limit",
            "1 when a warming IP attempted more than its daily cap allows (today, or yesterday per the ramp):"
            " the cap is not enforced, a fault",
            labels=["ip"],
        )
        delivered = GaugeMetricFamily(
            "emailengine_warmup_delivered_today", "Messages delivered today by a warming IP", labels=["ip"]
        )
        rows = list(
            IPWarmup.objects.exclude(status=IPWarmup.Status.COMPLETED).values_list(
                "ip__address", "ip__daily_limit", "status", "over_limit"
            )
        )
        today = counts_on(utc_today(), [r[0] for r in rows])
        for address, daily, state, flagged in rows:
            c = today.get(address)
            attempted = c.attempted if c else 0
            if daily is not None:
                limit.add_metric([address], daily)
            sent.add_metric([address], attempted)
            delivered.add_metric([address], c.delivered if c else 0)
            status.add_metric([address, state], 1)
            over.add_metric([address], 1 if flagged or is_over_limit(attempted, daily) else 0)
        yield limit
        yield sent
        yield status
        yield over
        yield delivered


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(WarmupCollector())
        _registered = True
