from datetime import date

from celery import shared_task
from django.utils import timezone

from core.jobs import scheduled_job
from warmup.reply_rules import reply_rule_actions_expire
from warmup.services import warmup_run_ramp


@shared_task
@scheduled_job("warmup-daily-ramp")
def run_daily_ramp(day: str | None = None) -> int:
    """Beat runs this at 00:00 UTC: decide today's limits from yesterday's numbers."""
    target = date.fromisoformat(day) if day else timezone.now().date()
    return len(warmup_run_ramp(day=target))


@shared_task
@scheduled_job("warmup-expire-reply-actions")
def expire_reply_rule_actions() -> int:
    return reply_rule_actions_expire()
