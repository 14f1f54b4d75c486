"""Periodic accounting work: thin wrappers around campaigns.accounting.importer services."""

from __future__ import annotations

import logging

from celery import shared_task

from campaigns.accounting.importer import accounting_events_prune, accounting_import_dir
from campaigns.accounting.partitions import event_partitions_ensure
from core.jobs import scheduled_job

log = logging.getLogger(__name__)


@shared_task(name="campaigns.tasks.accounting_import_dir", ignore_result=True)
@scheduled_job("accounting-import-dir")
def accounting_import_dir_task() -> dict:
    """Import new and grown files from ACCOUNTING_DIR; a no-op when the setting is empty."""
    result = accounting_import_dir()
    for failed in result.failed_files:
        log.warning("accounting import: %s: %s", failed["file"], failed["reason"])
    summary = result.as_dict()
    summary.pop("errors", None)
    return summary


@shared_task(name="campaigns.tasks.accounting_prune_events", ignore_result=True)
@scheduled_job("accounting-prune-events")
def accounting_prune_events_task() -> int:
    """Drop delivery events past ACCOUNTING_EVENT_RETENTION_DAYS (daily stats are kept)."""
    return accounting_events_prune()


@shared_task(name="campaigns.tasks.accounting_event_partitions", ignore_result=True)
@scheduled_job("accounting-event-partitions")
def accounting_event_partitions_task() -> dict:
    """Make the coming days' event partitions and move late or early records out of the default one."""
    return event_partitions_ensure().as_dict()
