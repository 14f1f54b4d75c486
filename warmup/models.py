from django.db import models

from campaigns.stats import Thresholds, threshold_default, thresholds
from ips.models import IPAddress

# Names of ips.models.ProviderGroup rows (seeded by ips migration 0003).
PROVIDERS = ("gmail", "microsoft", "yahoo")
# The recipient domains reply rules match for each provider.
PROVIDER_DOMAINS = {
    "gmail": ("gmail.com", "googlemail.com"),
    "microsoft": ("outlook.com", "hotmail.com", "live.com", "msn.com"),
    "yahoo": ("yahoo.com", "aol.com", "ymail.com"),
}


# The thresholds a plan stores; the others are settings only.
PLAN_THRESHOLDS = (
    "advance_min_ratio",
    "hold_bounce_rate",
    "hold_complaint_rate",
    "step_back_bounce_rate",
    "step_back_deferral_rate",
    "pause_bounce_rate",
    "pause_complaint_rate",
)


def default_advance_min_ratio() -> float:
    return threshold_default("advance_min_ratio")


def default_hold_bounce_rate() -> float:
    return threshold_default("hold_bounce_rate")


def default_hold_complaint_rate() -> float:
    return threshold_default("hold_complaint_rate")


def default_step_back_bounce_rate() -> float:
    return threshold_default("step_back_bounce_rate")


def default_step_back_deferral_rate() -> float:
    return threshold_default("step_back_deferral_rate")


def default_pause_bounce_rate() -> float:
    return threshold_default("pause_bounce_rate")


def default_pause_complaint_rate() -> float:
    return threshold_default("pause_complaint_rate")


class WarmupPlan(models.Model):
    """An ordered list of steps plus the thresholds the daily ramp judges each IP by."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    preset_key = models.CharField(
        max_length=40, blank=True, help_text="Set on shipped presets, which are read-only"
    )
    # Defaults come from settings.SIGNAL_* (campaigns.stats.thresholds); a plan may override each one.
    advance_min_ratio = models.FloatField(
        default=default_advance_min_ratio, help_text="Share of the cap that must have been delivered"
    )
    hold_bounce_rate = models.FloatField(default=default_hold_bounce_rate)
    hold_complaint_rate = models.FloatField(default=default_hold_complaint_rate)
    step_back_bounce_rate = models.FloatField(default=default_step_back_bounce_rate)
    step_back_deferral_rate = models.FloatField(default=default_step_back_deferral_rate)
    pause_bounce_rate = models.FloatField(default=default_pause_bounce_rate)
    pause_complaint_rate = models.FloatField(default=default_pause_complaint_rate)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_preset(self) -> bool:
        return bool(self.preset_key)

    def thresholds(self) -> Thresholds:
        """The plan's own values over settings.SIGNAL_* for the rest (block rates, over-limit tolerance)."""
        return thresholds(**{f: getattr(self, f) for f in PLAN_THRESHOLDS})


class WarmupStep(models.Model):
    plan = models.ForeignKey(WarmupPlan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    daily_limit = models.PositiveIntegerField()
    hourly_limit = models.PositiveIntegerField()
    gmail_daily = models.PositiveIntegerField(null=True, blank=True)
    microsoft_daily = models.PositiveIntegerField(null=True, blank=True)
    yahoo_daily = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="warmup_step_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan} step {self.position}: {self.daily_limit}/day"

    def provider_limits(self) -> dict[str, dict[str, int]]:
        """Per provider group (ips.models.ProviderGroup name), the shape ips.services.ip_set_limits stores.

        PMTA bounds each group as one queue over all its domains (queue-to, UG5 10.9), so the provider's daily
        share is given once, not copied onto each of its domains.
        """
        limits: dict[str, dict[str, int]] = {}
        for provider in PROVIDERS:
            daily = getattr(self, f"{provider}_daily")
            if daily:
                limits[provider] = {"daily": daily, "hourly": max(1, -(-daily // 12))}
        return limits


class IPWarmup(models.Model):
    """One IP's place in its plan. Decisions are kept for good: they explain every limit the IP ever had."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        HELD = "held", "Held"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"

    ip = models.OneToOneField(IPAddress, on_delete=models.CASCADE, related_name="warmup")
    plan = models.ForeignKey(WarmupPlan, on_delete=models.PROTECT, related_name="ip_warmups")
    step = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started_on = models.DateField()
    last_decision_on = models.DateField(null=True, blank=True)
    last_reason = models.CharField(max_length=1000, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    # Providers judged on their own (blocks): {"gmail": {"step": 3, "action": "hold"}}; a provider not here
    # follows the IP's step. A paused provider gets a limit of 0 on this IP (PMTA keeps its mail queued).
    provider_state = models.JSONField(default=dict, blank=True)
    # Yesterday's attempts went over the cap (decision over_limit): shown on the board, exported as a metric.
    over_limit = models.BooleanField(default=False)

    class Meta:
        ordering = ["ip__address"]

    def __str__(self) -> str:
        return f"{self.ip} on {self.plan} step {self.step} ({self.status})"


class WarmupDecision(models.Model):
    """What the ramp (or an operator) decided for one IP on one day, and the numbers it used."""

    warmup = models.ForeignKey(IPWarmup, on_delete=models.CASCADE, related_name="decisions")
    day = models.DateField(help_text="The day the decision applies to; its signals come from the day before")
    action = models.CharField(max_length=12)
    from_step = models.PositiveIntegerField()
    to_step = models.PositiveIntegerField()
    daily_limit = models.PositiveIntegerField(null=True)
    reason = models.CharField(max_length=1000)
    numbers = models.JSONField(default=dict)
    by = models.CharField(max_length=150, default="system: warmup ramp")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-id"]
        indexes = [
            models.Index(fields=["warmup", "day"]),
            # The decision lists (API, dashboard) page through all of them newest first: the page's rows
            # come from this index instead of a sort of every decision.
            models.Index(fields=["day", "id"], name="warmup_decision_day_id"),
        ]
        constraints = [
            # One ramp decision per IP and day: running a date twice changes nothing the second time.
            models.UniqueConstraint(
                fields=["warmup", "day"],
                condition=models.Q(by="system: warmup ramp"),
                name="one_ramp_decision_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.action} {self.from_step}->{self.to_step}"


class ReplyRule(models.Model):
    """Traffic shaping from remote replies, per IP x provider (warmup/reply_rules.py).

    N matching failures from one IP to the rule's provider within ``window_minutes`` trip it. The ladder
    (the default action) slows that IP's traffic to that provider first, holds it only if the replies go on
    while slowed, and after a hold resumes at the slowed rate before the full one. PMTA reacts in seconds by
    itself through the same patterns rendered as an ``<smtp-pattern-list>`` with ``mode=backoff``
    (warmup/pmta_backoff.py; UG5 3.3.15, 3.3.10.90, 3.3.10.34, 3.3.10.44).
    """

    class Action(models.TextChoices):
        LADDER = "ladder", "Slow down, hold if it persists, resume gradually (this provider only)"
        HOLD = "hold", "Hold the IP (stop sending)"
        HALVE = "halve", "Halve the IP's limits"

    name = models.CharField(max_length=100, unique=True)
    pattern = models.CharField(
        max_length=300, help_text="Regular expression on the diagnostic text (dsnDiag), case-insensitive"
    )
    provider = models.CharField(max_length=12, blank=True, choices=[(p, p.title()) for p in PROVIDERS])
    threshold = models.PositiveIntegerField(
        default=10, help_text="Matches per IP (and provider) within the window"
    )
    window_minutes = models.PositiveIntegerField(
        default=60, help_text="The window the matches are counted in"
    )
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.LADDER)
    duration_hours = models.PositiveIntegerField(
        default=4, help_text="How long each step of the ladder lasts"
    )
    slow_factor = models.FloatField(default=0.5, help_text="Share of the provider limit kept while slowed")
    # Rendered for PMTA's own backoff mode (per queue = IP x domain): while a matching reply has put a queue
    # in backoff, at most this many messages an hour, and back to normal after this many minutes.
    backoff_max_per_hour = models.PositiveIntegerField(
        null=True, blank=True, help_text="PMTA backoff-max-msg-rate per IP and domain while in backoff"
    )
    backoff_to_normal_minutes = models.PositiveIntegerField(
        default=30, help_text="PMTA backoff-to-normal-after, in minutes"
    )
    source = models.CharField(
        max_length=300, blank=True, help_text="The provider's own text this pattern matches"
    )
    preset_key = models.CharField(max_length=40, blank=True, help_text="Set on the shipped starter rules")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReplyRuleAction(models.Model):
    """An action a reply rule took on an IP; it expires by itself and restores what it changed."""

    class Stage(models.TextChoices):
        SLOW = "slow", "Slowed"
        HOLD = "hold", "Held"
        RESUME = "resume", "Resuming (slowed)"

    rule = models.ForeignKey(ReplyRule, on_delete=models.CASCADE, related_name="actions")
    ip = models.ForeignKey(IPAddress, on_delete=models.CASCADE, related_name="reply_rule_actions")
    action = models.CharField(max_length=8)
    # Ladder actions: the provider they act on ("" = the whole IP) and the step they are on.
    provider = models.CharField(max_length=12, blank=True)
    stage = models.CharField(max_length=8, blank=True, choices=Stage.choices)
    matches = models.PositiveIntegerField(help_text="Matching replies in the window that tripped the rule")
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    before = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.rule} {self.action} {self.ip}"

    @property
    def active(self) -> bool:
        return self.ended_at is None
