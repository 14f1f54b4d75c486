from datetime import date, datetime

from celery import shared_task

from core.dates import utc_today
from core.jobs import scheduled_job
from warmup.reply_rules import reply_rule_actions_expire, reply_rules_evaluate
from warmup.services import warmup_run_ramp


@shared_task
@scheduled_job("warmup-daily-ramp")
def run_daily_ramp(day: str | None = None) -> int:
    """Beat runs this at 00:00 UTC: decide today's limits from yesterday's numbers."""
    target = date.fromisoformat(day) if day else utc_today()
    return len(warmup_run_ramp(day=target))


@shared_task
@scheduled_job("warmup-expire-reply-actions")
def expire_reply_rule_actions() -> int:
    return reply_rule_actions_expire()


@shared_task(ignore_result=True)
def reply_rules_check(failures: dict[str, list[str]]) -> int:
    """Run the reply rules over one committed import batch: ``failures`` maps each sending IP to the
    ISO (first, last) times of its new failure records. Returns the number of actions taken."""
    bounds = {
        ip: (datetime.fromisoformat(first), datetime.fromisoformat(last))
        for ip, (first, last) in failures.items()
    }
    return len(reply_rules_evaluate(failures=bounds))
