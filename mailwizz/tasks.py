"""MailWizz schedules: campaign sync (every 15 minutes) and feedback (every minute), one task per tenant.

The tasks were named ``campaigns.mailwizz.tasks.*`` before the app existed; those names stay registered so
messages queued before an upgrade still run.
"""

from __future__ import annotations

import functools
import logging

from celery import shared_task
from django.db import transaction

from core.jobs import scheduled_job
from core.task_names import also_registered_as
from mailwizz.models import MailWizzConfig
from mailwizz.services import mailwizz_feedback_run, mailwizz_sync_campaigns

log = logging.getLogger(__name__)


def _enabled_config_ids() -> list[int]:
    return list(MailWizzConfig.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))


@shared_task(name="mailwizz.tasks.sync_all", ignore_result=True)
@also_registered_as("campaigns.mailwizz.tasks.sync_all")
@scheduled_job("mailwizz-sync")
def mailwizz_sync_all_task() -> int:
    ids = _enabled_config_ids()
    for config_id in ids:
        transaction.on_commit(functools.partial(mailwizz_sync_task.delay, config_id))
    return len(ids)


@shared_task(name="mailwizz.tasks.sync", ignore_result=True)
@also_registered_as("campaigns.mailwizz.tasks.sync")
def mailwizz_sync_task(config_id: int) -> dict:
    config = MailWizzConfig.objects.select_related("tenant").filter(pk=config_id, enabled=True).first()
    if config is None:
        return {"skipped": True}
    result = mailwizz_sync_campaigns(tenant=config.tenant)
    if not result.ok:
        log.warning("MailWizz sync of tenant %s failed: %s", config.tenant_id, result.error)
    return {"ok": result.ok, "campaigns": result.campaigns, "renamed": result.renamed, "error": result.error}


@shared_task(name="mailwizz.tasks.feedback_all", ignore_result=True)
@also_registered_as("campaigns.mailwizz.tasks.feedback_all")
@scheduled_job("mailwizz-feedback")
def mailwizz_feedback_all_task() -> int:
    ids = _enabled_config_ids()
    for config_id in ids:
        transaction.on_commit(functools.partial(mailwizz_feedback_task.delay, config_id))
    return len(ids)


@shared_task(name="mailwizz.tasks.feedback", ignore_result=True)
@also_registered_as("campaigns.mailwizz.tasks.feedback")
def mailwizz_feedback_task(config_id: int) -> dict:
    """Queue new hard bounces and complaints, then post the due ones (retries live in the service)."""
    summary = mailwizz_feedback_run(config_id=config_id)
    if summary.get("stopped"):
        log.warning("MailWizz feedback of config %s stopped: %s", config_id, summary["stopped"])
    return summary
