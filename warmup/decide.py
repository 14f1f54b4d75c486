"""The daily ramp's decision for one IP, as a pure function of its thresholds and yesterday's numbers.

Counts and rates are campaigns.stats's (the one definition); thresholds are campaigns.stats.Thresholds
(settings.SIGNAL_*, a plan may override them). Order matters: a reason to pause beats a fault, which beats a
reason to step back, which beats a reason to hold; only a full, clean day advances:

1. a critical listing of this IP itself (a /24 or ASN listing never counts here) -> pause;
2. complaints / delivered at the pause threshold, hard bounces / attempted at the pause threshold -> pause;
3. blocks (spam-/policy-related refusals, x.7.x codes) judged **per provider** when the day's traffic is
   split by provider: a provider over a block threshold is held, stepped back or paused on its own, the
   IP goes on; blocks on the rest of the traffic (or on every provider) judge the IP;
4. attempts above the cap by more than the tolerance -> over_limit: a fault (the cap is not enforced),
   never an advance;
5. hard bounces / deferrals at the step-back thresholds -> step back; at the hold thresholds -> hold;
6. advance only when more than ``advance_min_ratio`` of the cap was **delivered** (SparkPost's automated
   warmup, PMTA-NOTES section 10): bounces and blocks do not count toward the cap's use.
Every reason names the numbers it used.
"""

from dataclasses import dataclass, field

from campaigns.stats import Counts, Thresholds, format_count_of, format_rate

ADVANCE = "advance"
HOLD = "hold"
STEP_BACK = "step_back"
PAUSE = "pause"
COMPLETE = "complete"
OVER_LIMIT = "over_limit"

OK = "ok"
_SEVERITY = {"ok": 0, "hold": 1, "step_back": 2, "pause": 3}
# A provider verdict: what happens to that provider's own limit on this IP.
PROVIDER_ACTIONS = (OK, HOLD, STEP_BACK, PAUSE)


@dataclass(frozen=True)
class Signals:
    """Yesterday's numbers for one IP: the whole (``counts``) and, where known, per provider."""

    counts: Counts = field(default_factory=Counts)
    providers: dict[str, Counts] = field(default_factory=dict)
    critical_listings: tuple[str, ...] = ()
    # A provider's own verdict on this IP (Microsoft SNDS filter result): provider -> (action, why).
    provider_reports: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    action: str
    to_step: int
    reason: str
    numbers: dict
    provider_actions: dict[str, str] = field(default_factory=dict)

    @property
    def changes_step(self) -> bool:
        return self.action in (ADVANCE, STEP_BACK, COMPLETE)


def _pct(value: float | None) -> str:
    return format_rate(value)


def _block_verdict(c: Counts, t: Thresholds) -> str:
    rate = c.block_rate or 0.0
    if not c.blocked:
        return OK
    if rate >= t.pause_block_rate:
        return PAUSE
    if rate >= t.step_back_block_rate:
        return STEP_BACK
    if rate >= t.hold_block_rate:
        return HOLD
    return OK


def _block_text(name: str, c: Counts) -> str:
    return f"{name} blocks {format_count_of(c.blocked, c.attempted)}"


def decide(*, step: int, step_count: int, daily_limit: int, signals: Signals, t: Thresholds) -> Decision:
    """What to do with an IP on ``step`` (1-based) of a plan with ``step_count`` steps."""
    c = signals.counts
    provider_actions = {p: _block_verdict(pc, t) for p, pc in sorted(signals.providers.items())}
    report_text: dict[str, str] = {}
    for p, (action, why) in sorted(signals.provider_reports.items()):
        # The provider's own report wins when it is the stricter of the two.
        if _SEVERITY[action] > _SEVERITY[provider_actions.get(p, OK)]:
            provider_actions[p] = action
            report_text[p] = why
    scoped = [p for p, verdict in provider_actions.items() if verdict != OK]
    # Traffic not in a provider judged on its own: what IP-wide block rules look at.
    rest = Counts().add(c)
    for p in scoped:
        pc = signals.providers.get(p, Counts())
        rest.delivered -= pc.delivered
        rest.hard_bounces -= pc.hard_bounces
        rest.soft_bounces -= pc.soft_bounces
        rest.blocked -= pc.blocked
    if scoped and rest.attempted <= 0:
        # Every provider with traffic is blocked: that is the IP, not one provider.
        rest, provider_actions, scoped = c, dict.fromkeys(provider_actions, OK), []
    delivered_share = c.delivered / daily_limit if daily_limit else None
    numbers = {
        **c.numbers(),
        "daily_limit": daily_limit,
        "delivered_share": None if delivered_share is None else round(delivered_share, 6),
        "critical_listings": list(signals.critical_listings),
        "providers": {
            p: {
                **signals.providers.get(p, Counts()).numbers(),
                "action": provider_actions[p],
                **({"report": report_text[p]} if p in report_text else {}),
            }
            for p in sorted(provider_actions)
        },
    }
    scoped_text = "; ".join(
        f"{report_text.get(p) or _block_text(p, signals.providers.get(p, Counts()))}: "
        f"{provider_actions[p].replace('_', ' ')} {p} only"
        for p in scoped
    )

    def result(action: str, to_step: int, reason: str) -> Decision:
        if scoped_text and action != PAUSE:
            reason = f"{reason}; {scoped_text}"
        return Decision(
            action=action, to_step=to_step, reason=reason, numbers=numbers, provider_actions=provider_actions
        )

    if signals.critical_listings:
        return result(PAUSE, step, "listed on a critical blocklist: " + ", ".join(signals.critical_listings))
    if c.delivered and (c.complaint_rate or 0) >= t.pause_complaint_rate:
        return result(
            PAUSE,
            step,
            f"complaints {format_count_of(c.complaints, c.delivered)} delivered "
            f"≥ pause threshold {_pct(t.pause_complaint_rate)}",
        )
    if c.attempted and (c.hard_bounce_rate or 0) >= t.pause_bounce_rate:
        return result(
            PAUSE,
            step,
            f"hard bounces {format_count_of(c.hard_bounces, c.attempted)} attempted "
            f"≥ pause threshold {_pct(t.pause_bounce_rate)}",
        )
    rest_verdict = _block_verdict(rest, t)
    if rest_verdict == PAUSE:
        return result(
            PAUSE,
            step,
            f"{_block_text('', rest).strip()} attempted ≥ pause threshold {_pct(t.pause_block_rate)}",
        )
    if daily_limit and c.attempted > daily_limit * (1 + t.over_limit_tolerance):
        return result(
            OVER_LIMIT,
            step,
            f"fault: attempted {c.attempted:,} against a cap of {daily_limit:,} "
            f"({_pct(c.attempted / daily_limit)} of it, tolerance {_pct(t.over_limit_tolerance)}): "
            "the cap is not being enforced, so the day says nothing about this step; not advancing",
        )
    if c.attempted and (c.hard_bounce_rate or 0) >= t.step_back_bounce_rate:
        return _step_back(
            result,
            step,
            f"hard bounces {format_count_of(c.hard_bounces, c.attempted)} attempted "
            f"≥ {_pct(t.step_back_bounce_rate)}",
        )
    if rest_verdict == STEP_BACK:
        return _step_back(
            result, step, f"{_block_text('', rest).strip()} attempted ≥ {_pct(t.step_back_block_rate)}"
        )
    if c.attempted + c.transient and (c.deferral_rate or 0) >= t.step_back_deferral_rate:
        return _step_back(
            result,
            step,
            f"deferrals {format_count_of(c.transient, c.attempted + c.transient)} tries "
            f"≥ {_pct(t.step_back_deferral_rate)}",
        )
    if c.attempted == 0:
        return result(HOLD, step, "no sends yesterday: a day without sends never advances")
    if (c.hard_bounce_rate or 0) >= t.hold_bounce_rate:
        return result(
            HOLD,
            step,
            f"hard bounces {format_count_of(c.hard_bounces, c.attempted)} attempted "
            f"≥ hold threshold {_pct(t.hold_bounce_rate)}",
        )
    if rest_verdict == HOLD:
        return result(
            HOLD,
            step,
            f"{_block_text('', rest).strip()} attempted ≥ hold threshold {_pct(t.hold_block_rate)}",
        )
    if c.delivered and (c.complaint_rate or 0) >= t.hold_complaint_rate:
        return result(
            HOLD,
            step,
            f"complaints {format_count_of(c.complaints, c.delivered)} delivered "
            f"≥ hold threshold {_pct(t.hold_complaint_rate)}",
        )
    share = delivered_share if delivered_share is not None else 1.0
    delivered_text = (
        f"delivered {format_count_of(c.delivered, daily_limit)} cap"
        if daily_limit
        else f"delivered {c.delivered:,}"
    )
    if share <= t.advance_min_ratio:
        return result(
            HOLD,
            step,
            f"{delivered_text}, not more than {_pct(t.advance_min_ratio)} "
            f"(attempted {c.attempted:,}, bounced {c.bounces:,}, blocked {c.blocked:,})",
        )
    if step >= step_count:
        return result(COMPLETE, step, f"last step done cleanly ({delivered_text}): warmup complete")
    return result(ADVANCE, step + 1, f"{delivered_text} with clean rates")


def _step_back(result, step: int, why: str) -> Decision:
    if step <= 1:
        return result(HOLD, 1, f"{why}; already on step 1, holding")
    return result(STEP_BACK, step - 1, f"{why}; back to step {step - 1}")
