"""Celery tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from core.jobs import scheduled_job
from domains import services
from domains.models import SendingDomain


@shared_task
@scheduled_job("domains-recheck")
def recheck_all_domains() -> int:
    """Hourly: one task per domain, so one slow DNS zone does not hold up the others."""
    ids = list(SendingDomain.objects.order_by("pk").values_list("pk", flat=True))
    for domain_id in ids:
        check_domain.delay(domain_id)
    return len(ids)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=3)
def check_domain(domain_id: int) -> str:
    domain = SendingDomain.objects.filter(pk=domain_id).first()
    if domain is None:
        return "gone"  # deleted since it was queued
    services.domain_check_run(domain=domain)
    domain.refresh_from_db(fields=["status"])
    return domain.status


@shared_task
@scheduled_job("dkim-retire-expired")
def retire_expired_dkim_keys() -> int:
    return services.dkim_retire_expired()
