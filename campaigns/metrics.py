"""Prometheus metrics for the accounting import, read at scrape time with two small queries.

Counters come from AccountingCounter (updated in the same transaction as the records they count), so
they are exact and survive restarts; the lag is now minus the newest delivery event's timeLogged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


def _families() -> tuple[CounterMetricFamily, CounterMetricFamily, CounterMetricFamily, GaugeMetricFamily]:
    return (
        CounterMetricFamily(
            "emailengine_accounting_records",
            "Accounting records imported (new, not duplicates), by record type",
            labels=["type"],
        ),
        CounterMetricFamily("emailengine_accounting_rejected", "Accounting records rejected as invalid"),
        CounterMetricFamily(
            "emailengine_accounting_duplicates",
            "Accounting records skipped because they were already imported",
        ),
        GaugeMetricFamily(
            "emailengine_accounting_import_lag_seconds",
            "Age of the newest imported accounting record (now - its timeLogged)",
        ),
    )


class AccountingCollector(Collector):
    def describe(self) -> Iterator:
        # Without describe(), registering would call collect() and query the database at start-up.
        yield from _families()

    def collect(self) -> Iterator:
        records, rejected, duplicates, lag = _families()
        try:
            from django.db.models import Max

            from campaigns.models import AccountingCounter, DeliveryEvent

            for name, value in AccountingCounter.objects.values_list("name", "value"):
                if name.startswith("imported:"):
                    records.add_metric([name.removeprefix("imported:")], value)
                elif name == "rejected":
                    rejected.add_metric([], value)
                elif name == "duplicates":
                    duplicates.add_metric([], value)
            newest = DeliveryEvent.objects.aggregate(newest=Max("time_logged"))["newest"]
            if newest is not None:
                lag.add_metric([], max(0.0, time.time() - newest.timestamp()))
        except Exception:  # a scrape must not fail because the database is away
            log.warning("accounting metrics unavailable", exc_info=True)
            return
        yield records
        yield rejected
        yield duplicates
        yield lag


class TenantHoldCollector(Collector):
    """One query: the open tenant holds (campaigns/enforcement.py), each with the rate that opened it."""

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "emailengine_tenant_held",
            "The rate (fraction) that put a tenant on hold, while the hold is open; absent otherwise",
            labels=["tenant", "signal", "threshold"],
        )

    def describe(self) -> Iterator:
        yield self._family()

    def collect(self) -> Iterator:
        family = self._family()
        try:
            from campaigns.models import TenantHold

            rows = list(
                TenantHold.objects.filter(released_at__isnull=True)
                .order_by("tenant__slug")
                .values_list("tenant__slug", "signal", "threshold", "rate")
            )
        except Exception:  # a scrape must not fail because the database is away
            log.warning("tenant hold metrics unavailable", exc_info=True)
            return
        for slug, signal, threshold, rate in rows:
            family.add_metric([slug, signal, f"{threshold:g}"], rate)
        yield family


_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    from prometheus_client import REGISTRY

    REGISTRY.register(AccountingCollector())
    REGISTRY.register(TenantHoldCollector())
    _registered = True
