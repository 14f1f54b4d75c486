"""The daily ramp's decision for one IP, as a pure function of its plan's thresholds and yesterday's numbers.

Order matters: a reason to pause beats a reason to step back, which beats a reason to hold; only a clean,
full day advances. A day with no sends never advances.
"""

from dataclasses import asdict, dataclass

ADVANCE = "advance"
HOLD = "hold"
STEP_BACK = "step_back"
PAUSE = "pause"
COMPLETE = "complete"


@dataclass(frozen=True)
class Thresholds:
    advance_min_ratio: float = 0.90  # share of the step's daily limit that must have been attempted
    hold_bounce_rate: float = 0.02
    hold_complaint_rate: float = 0.001
    step_back_bounce_rate: float = 0.03
    step_back_deferral_rate: float = 0.30
    pause_bounce_rate: float = 0.05
    pause_complaint_rate: float = 0.003


@dataclass(frozen=True)
class DaySignals:
    delivered: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    transient: int = 0
    complaints: int = 0
    critical_listings: tuple[str, ...] = ()

    @property
    def attempted(self) -> int:
        """Messages that reached a final outcome; what the step's limit counts."""
        return self.delivered + self.hard_bounces + self.soft_bounces

    @property
    def hard_bounce_rate(self) -> float:
        return self.hard_bounces / self.attempted if self.attempted else 0.0

    @property
    def complaint_rate(self) -> float:
        # Mailbox providers measure complaints against delivered mail.
        return self.complaints / self.delivered if self.delivered else 0.0

    @property
    def deferral_rate(self) -> float:
        tries = self.attempted + self.transient
        return self.transient / tries if tries else 0.0


@dataclass(frozen=True)
class Decision:
    action: str
    to_step: int
    reason: str
    numbers: dict

    @property
    def changes_step(self) -> bool:
        return self.action in (ADVANCE, STEP_BACK, COMPLETE)


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def decide(*, step: int, step_count: int, daily_limit: int, signals: DaySignals, t: Thresholds) -> Decision:
    """What to do with an IP on `step` (1-based) of a plan with `step_count` steps."""
    numbers = {
        **asdict(signals),
        "critical_listings": list(signals.critical_listings),
        "attempted": signals.attempted,
        "daily_limit": daily_limit,
        "sent_ratio": round(signals.attempted / daily_limit, 4) if daily_limit else 0.0,
        "hard_bounce_rate": round(signals.hard_bounce_rate, 5),
        "complaint_rate": round(signals.complaint_rate, 5),
        "deferral_rate": round(signals.deferral_rate, 5),
    }

    def result(action: str, to_step: int, reason: str) -> Decision:
        return Decision(action=action, to_step=to_step, reason=reason, numbers=numbers)

    if signals.critical_listings:
        return result(PAUSE, step, "listed on a critical blocklist: " + ", ".join(signals.critical_listings))
    if signals.attempted and signals.complaint_rate >= t.pause_complaint_rate:
        return result(
            PAUSE,
            step,
            f"complaints {_pct(signals.complaint_rate)} ≥ pause threshold {_pct(t.pause_complaint_rate)}",
        )
    if signals.attempted and signals.hard_bounce_rate >= t.pause_bounce_rate:
        return result(
            PAUSE,
            step,
            f"hard bounces {_pct(signals.hard_bounce_rate)} ≥ pause threshold {_pct(t.pause_bounce_rate)}",
        )
    if signals.attempted and signals.hard_bounce_rate >= t.step_back_bounce_rate:
        return _step_back(
            result, step, f"hard bounces {_pct(signals.hard_bounce_rate)} ≥ {_pct(t.step_back_bounce_rate)}"
        )
    if signals.attempted + signals.transient and signals.deferral_rate >= t.step_back_deferral_rate:
        return _step_back(
            result, step, f"deferrals {_pct(signals.deferral_rate)} ≥ {_pct(t.step_back_deferral_rate)}"
        )
    if signals.attempted == 0:
        return result(HOLD, step, "no sends yesterday: a day without sends never advances")
    if signals.hard_bounce_rate >= t.hold_bounce_rate:
        return result(
            HOLD,
            step,
            f"hard bounces {_pct(signals.hard_bounce_rate)} ≥ hold threshold {_pct(t.hold_bounce_rate)}",
        )
    if signals.complaint_rate >= t.hold_complaint_rate:
        return result(
            HOLD,
            step,
            f"complaints {_pct(signals.complaint_rate)} ≥ hold threshold {_pct(t.hold_complaint_rate)}",
        )
    ratio = signals.attempted / daily_limit if daily_limit else 1.0
    if ratio < t.advance_min_ratio:
        return result(
            HOLD,
            step,
            f"sent {signals.attempted:,} of {daily_limit:,} ({_pct(ratio)}), "
            f"under {_pct(t.advance_min_ratio)}",
        )
    if step >= step_count:
        return result(COMPLETE, step, f"last step done cleanly ({signals.attempted:,} sent): warmup complete")
    return result(
        ADVANCE, step + 1, f"sent {signals.attempted:,} of {daily_limit:,} ({_pct(ratio)}) with clean rates"
    )


def _step_back(result, step: int, why: str) -> Decision:
    if step <= 1:
        return result(HOLD, 1, f"{why}; already on step 1, holding")
    return result(STEP_BACK, step - 1, f"{why}; back to step {step - 1}")
