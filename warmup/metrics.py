"""Prometheus gauges for warmup, computed at scrape time in a constant number of queries."""

from collections.abc import Iterator

from django.db.models import Sum
from django.utils import timezone
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

_registered = False


class WarmupCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registering must not touch the database (it happens at import time, before migrations).
        yield GaugeMetricFamily("emailengine_warmup_daily_limit", "", labels=["ip"])
        yield GaugeMetricFamily("emailengine_warmup_sent_today", "", labels=["ip"])
        yield GaugeMetricFamily("emailengine_warmup_status", "", labels=["ip", "status"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from campaigns.models import DailyStat
        from warmup.models import IPWarmup

        limit = GaugeMetricFamily(
            "emailengine_warmup_daily_limit", "Current daily limit of a warming IP", labels=["ip"]
        )
        sent = GaugeMetricFamily(
            "emailengine_warmup_sent_today", "Messages attempted today by a warming IP", labels=["ip"]
        )
        status = GaugeMetricFamily(
            "emailengine_warmup_status", "1 for the warmup status each IP is in", labels=["ip", "status"]
        )
        rows = list(
            IPWarmup.objects.exclude(status=IPWarmup.Status.COMPLETED).values_list(
                "ip__address", "ip__daily_limit", "status"
            )
        )
        addresses = [r[0] for r in rows]
        today = {
            r["source_ip"]: (r["d"] or 0) + (r["h"] or 0) + (r["s"] or 0)
            for r in DailyStat.objects.filter(day=timezone.now().date(), source_ip__in=addresses)
            .values("source_ip")
            .annotate(d=Sum("delivered"), h=Sum("hard_bounces"), s=Sum("soft_bounces"))
        }
        for address, daily, state in rows:
            if daily is not None:
                limit.add_metric([address], daily)
            sent.add_metric([address], today.get(address, 0))
            status.add_metric([address, state], 1)
        yield limit
        yield sent
        yield status


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(WarmupCollector())
        _registered = True
