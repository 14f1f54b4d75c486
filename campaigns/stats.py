"""The one definition of what was sent and how it went. Every page, the warmup ramp, tenant enforcement,
/metrics and the API count and divide through here; nothing else sums "sent" or computes a rate.

Counts (per PMTA accounting record type, PMTA-NOTES section 1; the record type decides finality):
- **attempted** = delivered + hard bounces + soft bounces: messages that reached a final outcome. Deferrals
  (t/tq) are retries, not outcomes, and complaints come later for mail already delivered.
- **delivered**: d records.
- **hard bounces**: b/rb records that say the address is gone (ACCOUNTING_HARD_CATEGORIES).
- **soft bounces**: every other b/rb record.
- **blocks**: the refusals that are about us (IP or domain reputation, policy), not about the address: a
  bounce or deferral whose category is in SIGNAL_BLOCK_CATEGORIES (spam-related, policy-related; UG5 11.6)
  or whose enhanced status code is x.7.x ("Security or Policy Status", RFC 3463 section 3.8; 4.7.x when
  temporary, 5.7.x when final). Final blocks are a subset of soft bounces, deferral blocks of deferrals.
  The daily aggregates keep categories, not codes, so a count read from them (pages, /metrics) is by
  category; the warmup ramp and the reply rules read the events and use both (``is_block``/``block_q``).
- **complaints**: f records (feedback-loop reports).

Rates (fractions of 1; ``format_rate`` shows them in percent with two significant digits):
- delivered_rate = delivered / attempted
- bounce_rate = (hard + soft) / attempted; hard_bounce_rate = hard / attempted
- block_rate = blocks / attempted (final blocks; deferral blocks are reported beside it)
- complaint_rate = complaints / delivered (mailbox providers measure complaints against delivered mail)
- deferral_rate = deferrals / (attempted + deferrals)
A rate with nothing to divide by is None ("no data"), never 0%.

Thresholds live in settings (SIGNAL_*), read by ``thresholds()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.db.models import BigIntegerField, FloatField, Model, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf

from core.numbers import format_rate  # the one display rule for rates; re-exported here

__all__ = [
    "COUNT_FIELDS",
    "RATE_PARTS",
    "Counts",
    "Thresholds",
    "at_threshold_sql",
    "attempted_sql",
    "block_categories",
    "block_q",
    "format_rate",
    "is_block",
    "rate_level",
    "rate_sql",
    "sums",
    "thresholds",
]

# x.7.x, as a whole code: not 5.7 inside 15.7.1 or 5.7.1 inside 5.7.10's neighbour digits.
_BLOCK_CODE = re.compile(r"(?<![\d.])[45]\.7\.\d{1,3}(?![\d.])")
# The same test in Postgres (ARE syntax, used on dsn_status, which PMTA fills as "5.7.1 (...)").
_BLOCK_CODE_SQL = r"(^|[^0-9.])[45]\.7\.[0-9]{1,3}([^0-9.]|$)"


def block_categories() -> frozenset[str]:
    return frozenset(c.strip().lower() for c in settings.SIGNAL_BLOCK_CATEGORIES)


def is_block(bounce_cat: str, dsn_status: str, dsn_diag: str = "") -> bool:
    """True when a refusal (bounce or deferral) is about our reputation or policy, not the address."""
    if bounce_cat.strip().lower() in block_categories():
        return True
    return bool(_BLOCK_CODE.search(dsn_status) or _BLOCK_CODE.search(dsn_diag[:80]))


def block_q(prefix: str = "") -> Q:
    """``is_block`` as a filter on DeliveryEvent rows (the caller limits it to bounces/deferrals)."""
    return Q(**{f"{prefix}bounce_cat__in": sorted(block_categories())}) | Q(
        **{f"{prefix}dsn_status__regex": _BLOCK_CODE_SQL}
    )


# --- counts ----------------------------------------------------------------------------------------------

COUNT_FIELDS = (
    "delivered",
    "hard_bounces",
    "soft_bounces",
    "blocked",
    "transient",
    "blocked_deferrals",
    "complaints",
)
# The columns the daily aggregates store; blocked and blocked_deferrals are derived from their categories.
STORED_FIELDS = ("delivered", "hard_bounces", "soft_bounces", "transient", "complaints")


@dataclass
class Counts:
    delivered: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    blocked: int = 0  # final blocks, part of soft_bounces
    transient: int = 0  # deferrals
    blocked_deferrals: int = 0  # part of transient
    complaints: int = 0

    @classmethod
    def from_row(cls, row: dict | object) -> Counts:
        get = row.get if isinstance(row, dict) else lambda name, default=0: getattr(row, name, default)
        return cls(**{name: int(get(name, 0) or 0) for name in COUNT_FIELDS})

    def add(self, other: Counts) -> Counts:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    # -- derived counts --
    @property
    def attempted(self) -> int:
        return self.delivered + self.hard_bounces + self.soft_bounces

    @property
    def bounces(self) -> int:
        return self.hard_bounces + self.soft_bounces

    # -- rates (None: nothing to divide by); RATE_PARTS defines each, here and in SQL (rate_sql) --
    def _rate(self, name: str) -> float | None:
        part, whole = RATE_PARTS[name]
        return _ratio(sum(getattr(self, f) for f in part), sum(getattr(self, f) for f in whole))

    @property
    def delivered_rate(self) -> float | None:
        return self._rate("delivered_rate")

    @property
    def bounce_rate(self) -> float | None:
        return self._rate("bounce_rate")

    @property
    def hard_bounce_rate(self) -> float | None:
        return self._rate("hard_bounce_rate")

    @property
    def soft_bounce_rate(self) -> float | None:
        return self._rate("soft_bounce_rate")

    @property
    def block_rate(self) -> float | None:
        return self._rate("block_rate")

    @property
    def complaint_rate(self) -> float | None:
        return self._rate("complaint_rate")

    @property
    def deferral_rate(self) -> float | None:
        return self._rate("deferral_rate")

    @property
    def level(self) -> str:
        """A badge class for pages: error at a pause threshold, warning at a hold threshold, else ok."""
        return rate_level(self)

    def numbers(self) -> dict[str, Any]:
        """Counts and rates (rounded to 6 places) for decision records and API answers."""
        out: dict[str, Any] = {name: getattr(self, name) for name in COUNT_FIELDS}
        out["attempted"] = self.attempted
        for name in RATE_NAMES:
            value = getattr(self, name)
            out[name] = None if value is None else round(value, 6)
        return out


RATE_NAMES = (
    "delivered_rate",
    "bounce_rate",
    "hard_bounce_rate",
    "block_rate",
    "complaint_rate",
    "deferral_rate",
)


_ATTEMPTED = ("delivered", "hard_bounces", "soft_bounces")
# Each rate as (counts summed on top, counts summed below): the module docstring's definitions, read by
# Counts (Python) and by rate_sql (lists that sort by a rate in the database).
RATE_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "delivered_rate": (("delivered",), _ATTEMPTED),
    "bounce_rate": (("hard_bounces", "soft_bounces"), _ATTEMPTED),
    "hard_bounce_rate": (("hard_bounces",), _ATTEMPTED),
    "soft_bounce_rate": (("soft_bounces",), _ATTEMPTED),
    "block_rate": (("blocked",), _ATTEMPTED),
    "complaint_rate": (("complaints",), ("delivered",)),
    "deferral_rate": (("transient",), (*_ATTEMPTED, "transient")),
}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _sql_sum(names: tuple[str, ...], counts: dict[str, Any]) -> Any:
    total: Any = counts[names[0]]
    for name in names[1:]:
        total = total + counts[name]
    return total


def attempted_sql(counts: dict[str, Any]) -> Any:
    """``Counts.attempted`` as SQL over ``counts`` ({count field: expression}, e.g. ``sums()``)."""
    return _sql_sum(_ATTEMPTED, counts)


def rate_sql(name: str, counts: dict[str, Any]) -> Any:
    """A ``Counts`` rate as a SQL expression (a float, NULL when there is nothing to divide by, as None is),
    over ``counts`` ({count field: expression}, e.g. ``sums()``), so a list can sort and filter by it."""
    part, whole = RATE_PARTS[name]
    below = _sql_sum(whole, counts)
    return Cast(_sql_sum(part, counts), FloatField()) / NullIf(Cast(below, FloatField()), Value(0.0))


def _category_sum(column: str, categories: frozenset[str]) -> Any:
    terms = [Coalesce(Cast(KT(f"{column}__{c}"), BigIntegerField()), Value(0)) for c in sorted(categories)]
    total: Any = terms[0] if terms else Value(0)
    for term in terms[1:]:
        total = total + term
    return total


def stored_sums(*, prefix: str = "") -> dict[str, Any]:
    """The stored count columns' sums (``sums()`` without the block counts read from JSONB categories)."""
    return {name: Coalesce(Sum(f"{prefix}{name}"), Value(0)) for name in STORED_FIELDS}


def sums(model: type[Model], *, prefix: str = "", day_filter: Q | None = None) -> dict[str, Any]:
    """Aggregates for ``.aggregate()``/``.annotate()`` over DailyStat rows or a rollup's (DailyTenantStat,
    DailyDomainStat, DailyCampaignStat; ``prefix`` for a relation's rows); names match ``Counts`` fields, so
    ``Counts.from_row`` reads the result."""
    field_names = {f.name for f in model._meta.get_fields()}
    out: dict[str, Any] = {
        name: Coalesce(Sum(f"{prefix}{name}", filter=day_filter), Value(0)) for name in STORED_FIELDS
    }
    cats = block_categories()
    out["blocked"] = Coalesce(
        Sum(_category_sum(f"{prefix}bounce_categories", cats), filter=day_filter), Value(0)
    )
    if "transient_categories" in field_names:
        out["blocked_deferrals"] = Coalesce(
            Sum(_category_sum(f"{prefix}transient_categories", cats), filter=day_filter), Value(0)
        )
    return out


# --- thresholds ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Fractions of 1; defaults from settings.SIGNAL_* (``thresholds()``), a warmup plan may override."""

    advance_min_ratio: float  # share of the cap that must have been *delivered* to advance
    hold_bounce_rate: float
    hold_complaint_rate: float
    step_back_bounce_rate: float
    step_back_deferral_rate: float
    pause_bounce_rate: float
    pause_complaint_rate: float
    hold_block_rate: float
    step_back_block_rate: float
    pause_block_rate: float
    over_limit_tolerance: float

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


_SETTING_FOR = {
    "advance_min_ratio": "SIGNAL_ADVANCE_MIN_DELIVERED",
    "hold_bounce_rate": "SIGNAL_HOLD_BOUNCE_RATE",
    "hold_complaint_rate": "SIGNAL_HOLD_COMPLAINT_RATE",
    "step_back_bounce_rate": "SIGNAL_STEP_BACK_BOUNCE_RATE",
    "step_back_deferral_rate": "SIGNAL_STEP_BACK_DEFERRAL_RATE",
    "pause_bounce_rate": "SIGNAL_PAUSE_BOUNCE_RATE",
    "pause_complaint_rate": "SIGNAL_PAUSE_COMPLAINT_RATE",
    "hold_block_rate": "SIGNAL_HOLD_BLOCK_RATE",
    "step_back_block_rate": "SIGNAL_STEP_BACK_BLOCK_RATE",
    "pause_block_rate": "SIGNAL_PAUSE_BLOCK_RATE",
    "over_limit_tolerance": "SIGNAL_OVER_LIMIT_TOLERANCE",
}


def threshold_default(name: str) -> float:
    return float(getattr(settings, _SETTING_FOR[name]))


def thresholds(**overrides: float) -> Thresholds:
    values = {name: threshold_default(name) for name in _SETTING_FOR}
    values.update(overrides)
    return Thresholds(**values)


def rate_level(counts: Counts, t: Thresholds | None = None) -> str:
    t = t or thresholds()
    hard, complaint, block = (
        counts.hard_bounce_rate or 0.0,
        counts.complaint_rate or 0.0,
        counts.block_rate or 0.0,
    )
    if hard >= t.pause_bounce_rate or complaint >= t.pause_complaint_rate or block >= t.pause_block_rate:
        return "error"
    if hard >= t.hold_bounce_rate or complaint >= t.hold_complaint_rate or block >= t.hold_block_rate:
        return "warning"
    return "ok"


def at_threshold_sql(counts: dict[str, Any], t: Thresholds | None = None) -> Any:
    """A SQL condition over ``counts`` ({count field: expression}, e.g. ``sums()`` without "blocked") true for
    every group ``rate_level`` would judge above "ok" (and perhaps a few more): a pre-filter, so a page sums
    the JSONB block categories only for the few groups that can be at a threshold; ``rate_level`` then
    decides on the full counts. The rates are ``rate_sql`` (the definitions above), a missing rate reads 0 as
    in ``rate_level``, and each is tested against the lower of its hold and pause thresholds. Without
    "blocked" in ``counts`` the bounce rate stands in for the block rate: final blocks are bounces (the
    categories are those of b/rb records), so block_rate <= bounce_rate."""
    from django.db.models.lookups import GreaterThanOrEqual

    t = t or thresholds()
    block_rate = "block_rate" if "blocked" in counts else "bounce_rate"
    tests = [
        ("hard_bounce_rate", min(t.hold_bounce_rate, t.pause_bounce_rate)),
        ("complaint_rate", min(t.hold_complaint_rate, t.pause_complaint_rate)),
        (block_rate, min(t.hold_block_rate, t.pause_block_rate)),
    ]
    condition = Q()
    for name, threshold in tests:
        rate = Coalesce(rate_sql(name, counts), Value(0.0))
        condition |= Q(GreaterThanOrEqual(rate, Value(float(threshold))))
    return condition


# --- display ------------------------------------------------------------------------------------------------


def format_count_of(part: int, whole: int) -> str:
    """ "700 of 1,000 (70%)": the numbers an explanation names."""
    return f"{part:,} of {whole:,} ({format_rate(_ratio(part, whole))})"
