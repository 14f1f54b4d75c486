"""Celery tasks of address validation: thin wrappers around hygiene.services.

The tasks were named ``campaigns.validation.tasks.*`` before the app existed; those names stay registered so
messages queued before an upgrade still run.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from core.jobs import scheduled_job
from core.task_names import also_registered_as
from hygiene.services import validation_job_run, validation_jobs_requeue_stale

log = logging.getLogger(__name__)


@shared_task(name="hygiene.tasks.validation_job_run", ignore_result=True)
@also_registered_as("campaigns.validation.tasks.validation_job_run")
def validation_job_run_task(job_id: int) -> dict:
    """Run or resume one job. acks_late (settings): a worker that dies mid-job gets the message redelivered,
    and the run goes on from the last committed chunk."""
    job = validation_job_run(job_id=job_id)
    if job is None:
        return {"job": job_id, "status": "missing"}
    return {"job": job.pk, "status": job.status, "done": job.done, "total": job.total}


class _Queued:
    """Whether the run reached the broker: None until the on-commit send has happened."""

    sent: bool | None = None


def validation_job_enqueue(job_id: int) -> _Queued:
    """Queue a run once the current transaction commits (the worker must see the job).

    The job is already saved when this runs, so an unreachable broker must not turn the upload into an
    error: the job stays ``new``, ``validation_resume_stuck`` queues it once the broker is back, and the
    returned ``sent`` (known at once outside a transaction) lets the page say so.
    """
    queued = _Queued()

    def send() -> None:
        try:
            validation_job_run_task.delay(job_id)
        except Exception:  # kombu/redis connection errors vary by transport; all mean "not queued"
            log.warning("validation: job %s saved but not queued (broker unreachable)", job_id, exc_info=True)
            queued.sent = False
        else:
            queued.sent = True

    transaction.on_commit(send)
    return queued


@shared_task(name="hygiene.tasks.validation_resume_stuck", ignore_result=True)
@also_registered_as("campaigns.validation.tasks.validation_resume_stuck")
@scheduled_job("validation-resume-stuck")
def validation_resume_stuck_task() -> dict:
    """Re-queue jobs whose worker died or whose queue message was lost, so none stays "running"."""
    ids = validation_jobs_requeue_stale()
    for job_id in ids:
        validation_job_enqueue(job_id)
    return {"requeued": len(ids)}
