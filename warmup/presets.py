"""Shipped warmup plans, built from published ramps (PMTA-NOTES.md section 7).

Each preset is a list of steps (daily limit, hourly limit, per-provider daily limits). Per-provider
limits keep the big mailbox providers, which judge a new IP hardest, to a share of the day's volume.
"""

from dataclasses import dataclass, field

# The share of a step's daily volume each big provider may take; "other" is everything else.
PROVIDER_SHARES = {"gmail": 0.35, "microsoft": 0.25, "yahoo": 0.2}


@dataclass(frozen=True)
class PresetStep:
    daily: int
    hourly: int
    providers: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    description: str
    steps: list[PresetStep]


def _step(daily: int) -> PresetStep:
    # Spread over ~12 sending hours so a step's volume cannot arrive in one burst.
    hourly = max(1, -(-daily // 12))
    providers = {name: max(1, int(daily * share)) for name, share in PROVIDER_SHARES.items()}
    return PresetStep(daily=daily, hourly=hourly, providers=providers)


# SparkPost's published daily per-IP stages.
SPARKPOST_STAGES = [
    200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 40_000, 50_000, 75_000, 100_000, 150_000, 200_000, 250_000,
    325_000, 400_000, 500_000, 600_000, 750_000, 1_000_000, 1_250_000, 1_750_000, 2_000_000, 3_000_000,
    4_250_000, 5_000_000, 6_000_000, 7_500_000, 10_000_000,
]  # fmt: skip


def _ses_like() -> list[int]:
    """45 days up to 50,000/day, geometric from 200 (SES's standard dedicated-IP plan shape)."""
    start, end, days = 200, 50_000, 45
    ratio = (end / start) ** (1 / (days - 1))
    return [round(start * ratio**i, -1 if start * ratio**i < 10_000 else -2) for i in range(days - 1)] + [end]


def _fast_x14() -> list[int]:
    """About x1.4 per day (SendGrid's automated ramp), from 500 to 1,000,000/day."""
    values, v = [], 500.0
    while v < 1_000_000:
        values.append(int(round(v, -1)))
        v *= 1.4
    values.append(1_000_000)
    return values


PRESETS: list[Preset] = [
    Preset(
        "sparkpost",
        "SparkPost-like 29 stages",
        "SparkPost's published daily stages per IP, 200/day to 10M/day; advance at >90% of the cap.",
        [_step(d) for d in SPARKPOST_STAGES],
    ),
    Preset(
        "ses-45",
        "SES-like 45 days to 50k/day",
        "Amazon SES standard dedicated-IP shape: 45 days from 200/day to 50,000/day.",
        [_step(d) for d in _ses_like()],
    ),
    Preset(
        "fast-x1.4",
        "Fast x1.4 per day",
        "SendGrid-style automatic ramp, about x1.4 per day, 500/day up to 1M/day, for clean lists.",
        [_step(d) for d in _fast_x14()],
    ),
]


def days_to_reach(daily_limits: list[int], target: int) -> int | None:
    """Days of clean advancing until a step allows `target`/day (1 = the first step already does)."""
    for position, daily in enumerate(daily_limits, start=1):
        if daily >= target:
            return position
    return None
