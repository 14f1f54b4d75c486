from celery import shared_task

from core.jobs import scheduled_job


@shared_task
def ping(value: str = "pong") -> str:
    """A broker round trip without side effects, for health checks and the broker test."""
    return value


@shared_task(name="emailengine.tasks.tenants_enforce", ignore_result=True)
@scheduled_job("tenant-enforcement")
def tenants_enforce_task() -> int:
    """Hourly: hold tenants over their complaint or bounce threshold (campaigns.enforcement), counting
    Gmail's user-reported spam rate from Postmaster Tools too (reputation data; this glue may read both)."""
    from campaigns.enforcement import tenants_enforce
    from emailengine.provider_signals import gmail_spam_verdicts

    return len(tenants_enforce(provider_verdicts=gmail_spam_verdicts()))
