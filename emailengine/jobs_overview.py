"""The operator's view of every scheduled job: the beat schedule joined with each job's latest run.

Here rather than in core.jobs because it reads the Celery app, which sits on top of every app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class JobStatus:
    name: str
    task: str
    schedule: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_success_at: datetime | None
    last_ok: bool | None
    last_duration_ms: int | None
    last_error: str
    last_counts: dict[str, Any] | None
    # True when the last success is older than the schedule allows (one missed run plus slack),
    # None when it never succeeded.
    overdue: bool | None


def _schedule_object(raw: object) -> Any:
    from celery.schedules import schedule

    from emailengine.celery import app

    if isinstance(raw, int | float | timedelta):
        seconds = raw.total_seconds() if isinstance(raw, timedelta) else float(raw)
        return schedule(timedelta(seconds=seconds), app=app)
    return raw


def _describe(sched: Any) -> tuple[str, timedelta]:
    """Human text of a schedule and how late a run may be before it counts as overdue."""
    run_every = getattr(sched, "run_every", None)
    if isinstance(run_every, timedelta) and not hasattr(sched, "_orig_minute"):
        seconds = int(run_every.total_seconds())
        if seconds % 3600 == 0:
            text = f"every {seconds // 3600} h"
        elif seconds % 60 == 0:
            text = f"every {seconds // 60} min"
        else:
            text = f"every {seconds} s"
        return text, max(run_every, timedelta(minutes=5))
    fields = ("_orig_minute", "_orig_hour", "_orig_day_of_month", "_orig_month_of_year", "_orig_day_of_week")
    if all(hasattr(sched, f) for f in fields):
        return "cron " + " ".join(str(getattr(sched, f)) for f in fields) + " UTC", timedelta(hours=1)
    return str(sched), timedelta(hours=1)


def scheduled_jobs_overview() -> list[JobStatus]:
    """Every beat schedule entry with its latest run, in schedule order (one query)."""
    from core.models import ScheduledJobState
    from emailengine.celery import app

    states = {s.name: s for s in ScheduledJobState.objects.all()}
    rows = []
    for name, entry in app.conf.beat_schedule.items():
        sched = _schedule_object(entry["schedule"])
        text, grace = _describe(sched)
        state = states.get(name)
        success = state.last_success_at if state else None
        overdue = None
        if success is not None:
            overdue = sched.remaining_estimate(success) < -grace
        rows.append(
            JobStatus(
                name=name,
                task=entry["task"],
                schedule=text,
                last_started_at=state.last_started_at if state else None,
                last_finished_at=state.last_finished_at if state else None,
                last_success_at=success,
                last_ok=state.last_ok if state else None,
                last_duration_ms=state.last_duration_ms if state else None,
                last_error=state.last_error if state else "",
                last_counts=state.last_counts if state else None,
                overdue=overdue,
            )
        )
    return rows
