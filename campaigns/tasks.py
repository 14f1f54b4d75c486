"""Periodic accounting work: thin wrappers around campaigns.accounting.importer services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from campaigns.accounting.importer import accounting_events_prune, accounting_import_dir
from campaigns.accounting.partitions import event_partitions_ensure
from campaigns.services.suppression_import import suppression_import_run, suppression_imports_requeue_stale
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


@shared_task(name="campaigns.tasks.suppression_import_run", ignore_result=True)
def suppression_import_run_task(job_id: int) -> dict:
    """Run or resume one suppression import. acks_late (settings): a worker that dies mid-job gets the
    message back, and the run goes on from the last committed chunk."""
    job = suppression_import_run(job_id=job_id)
    if job is None:
        return {"job": job_id, "status": "nothing to do"}
    return {"job": job.pk, "status": job.status, "added": job.added, "errors": job.errors_total}


def suppression_import_enqueue(job_id: int) -> None:
    """Queue a run once the current transaction commits (the worker must see the job)."""
    transaction.on_commit(lambda: suppression_import_run_task.delay(job_id))


@shared_task(name="campaigns.tasks.suppression_import_resume_stuck", ignore_result=True)
@scheduled_job("suppression-import-resume-stuck")
def suppression_import_resume_stuck_task() -> dict:
    """Re-queue imports whose worker died or whose queue message was lost, so none stays "running"."""
    ids = suppression_imports_requeue_stale()
    for job_id in ids:
        suppression_import_enqueue(job_id)
    return {"requeued": ids}
