"""Charts of provider data, drawn with the shared chart component (core.charts, templates/core/_chart.html).

One point per calendar day of the window, so a day without data is a gap (the line breaks, the table says
"—"), never a misleading zero. Gmail: the user-reported spam rate per domain (Postmaster Tools v2) against
the two lines that matter: stay under SIGNAL_HOLD_COMPLAINT_RATE (0.1%) and never reach
TENANT_HOLD_COMPLAINT_RATE (0.3%, where this engine holds the tenant; support.google.com/a/answer/14229414).
Microsoft SNDS per IP: the complaint rate and the trap hits per day. SNDS shows a low complaint rate only as
"< 0.1%"; it is stored and drawn at that bound (at most that), and the chart title says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings

from core.charts import Chart, Series, grouped_bars, line_chart
from core.numbers import format_rate
from reputation.models import PostmasterDomainStat, SndsIpStat

__all__ = [
    "PROVIDER_DAYS",
    "DomainProviderData",
    "IpSndsData",
    "day_axis",
    "ip_snds",
    "postmaster_domains",
    "snds_ips",
]

# How many days the provider page and the IP page's provider card show.
PROVIDER_DAYS = 14


def day_axis(*, until: date, days: int) -> list[date]:
    """The last ``days`` calendar days up to and including ``until``."""
    return [until - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _labels(days: list[date]) -> list[str]:
    return [d.strftime("%m-%d") for d in days]


@dataclass
class DomainProviderData:
    name: str
    stats: list[PostmasterDomainStat] = field(default_factory=list)
    chart: Chart | None = None


@dataclass
class IpSndsData:
    address: str
    rows: list[SndsIpStat] = field(default_factory=list)
    complaint_chart: Chart | None = None
    traps_chart: Chart | None = None

    @property
    def latest(self) -> SndsIpStat | None:
        return max(self.rows, key=lambda r: r.activity_end) if self.rows else None


def postmaster_chart(name: str, stats: Iterable[PostmasterDomainStat], days: list[date]) -> Chart:
    by_day = {s.day: s.spam_rate for s in stats}
    return line_chart(
        _labels(days),
        [Series("User-reported spam rate", "bad", [by_day.get(d) for d in days])],
        title=f"Gmail user-reported spam rate, {name}",
        fmt=format_rate,
        references=[
            (settings.SIGNAL_HOLD_COMPLAINT_RATE, "stay under"),
            (settings.TENANT_HOLD_COMPLAINT_RATE, "tenant held at"),
        ],
    )


def snds_charts(address: str, rows: Iterable[SndsIpStat], days: list[date]) -> tuple[Chart, Chart]:
    """(complaint rate per day, trap hits per day) for one IP. Several activity periods ending on one day
    count as that day: the worst complaint rate and the sum of trap hits."""
    complaint: dict[date, float] = {}
    traps: dict[date, int] = {}
    for row in rows:
        if row.complaint_rate is not None:
            complaint[row.day] = max(complaint.get(row.day, 0.0), row.complaint_rate)
        traps[row.day] = traps.get(row.day, 0) + row.trap_hits
    complaint_chart = line_chart(
        _labels(days),
        [Series("Complaint rate", "bad", [complaint.get(d) for d in days])],
        title=f"Microsoft SNDS complaint rate, {address} ('< 0.1%' drawn at 0.1%)",
        fmt=format_rate,
    )
    traps_chart = grouped_bars(
        _labels(days),
        [Series("Trap hits", "bad", [traps.get(d) for d in days])],
        title=f"Microsoft SNDS trap hits, {address}",
    )
    return complaint_chart, traps_chart


def postmaster_domains(stats: Iterable[PostmasterDomainStat], days: list[date]) -> list[DomainProviderData]:
    """Per domain (in the order given, e.g. by name), its stats and its chart."""
    found: dict[str, DomainProviderData] = {}
    for stat in stats:
        found.setdefault(stat.domain.name, DomainProviderData(stat.domain.name)).stats.append(stat)
    for data in found.values():
        data.chart = postmaster_chart(data.name, data.stats, days)
    return list(found.values())


def snds_ips(rows: Iterable[SndsIpStat], days: list[date]) -> list[IpSndsData]:
    """Per IP (in the order given), its SNDS rows and its two charts."""
    found: dict[str, IpSndsData] = {}
    for row in rows:
        found.setdefault(row.address, IpSndsData(row.address)).rows.append(row)
    for data in found.values():
        data.complaint_chart, data.traps_chart = snds_charts(data.address, data.rows, days)
    return list(found.values())


def ip_snds(address: str, *, until: date) -> IpSndsData:
    """One IP's SNDS rows and charts over the last PROVIDER_DAYS days (the IP page's provider card)."""
    days = day_axis(until=until, days=PROVIDER_DAYS)
    rows = list(SndsIpStat.objects.filter(address=address, day__gte=days[0]).order_by("day", "activity_end"))
    data = IpSndsData(address, rows)
    data.complaint_chart, data.traps_chart = snds_charts(address, rows, days)
    return data
