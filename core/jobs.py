"""Every scheduled job logs its start, end, counts and duration, and leaves its latest run in the database.

Usage, under the task decorator so Celery registers the wrapped function with its own name and signature:

    @shared_task
    @scheduled_job("ips-health-poll")
    def poll_all_servers() -> int: ...

The name is the job's key in `app.conf.beat_schedule`; it labels the log lines, the ScheduledJobState row and
the `emailengine_job_*{job=...}` metrics. A test checks that every beat entry's task carries it.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.db.models import F
from django.utils import timezone

log = logging.getLogger("emailengine.jobs")

P = ParamSpec("P")
R = TypeVar("R")

_ERROR_MAX_CHARS = 2000


@dataclass
class JobRun:
    """The run in progress; the body may set `counts` (the decorator sets it from the return value)."""

    name: str
    started_at: datetime
    counts: dict[str, Any] | None = None
    _t0: float = field(default_factory=time.monotonic, repr=False)

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self._t0) * 1000)


def counts_from_result(result: object) -> dict[str, Any] | None:
    """A task's return value as counts: an int becomes {"count": n}, a dict is kept (JSON-safe), else None."""
    if isinstance(result, bool):
        return None
    if isinstance(result, int):
        return {"count": result}
    if isinstance(result, dict):
        # Round trip so the log line and the JSONField hold the same plain values (dates become strings).
        return json.loads(json.dumps(result, default=str))
    return None


def _is_retry(exc: BaseException) -> bool:
    try:
        from celery.exceptions import Retry
    except ImportError:  # pragma: no cover - celery is a dependency
        return False
    return isinstance(exc, Retry)


def _record(action: str, name: str, **values: Any) -> None:
    """Write the job's state; a database problem is logged, never raised over the job's own outcome."""
    from core.models import ScheduledJobState

    try:
        if action == "start":
            ScheduledJobState.objects.bulk_create(
                [ScheduledJobState(name=name, **values)],
                update_conflicts=True,
                unique_fields=["name"],
                update_fields=list(values),
            )
            return
        counters = {"runs": F("runs") + 1}
        if action == "failed":
            counters["failures"] = F("failures") + 1
        if not ScheduledJobState.objects.filter(name=name).update(**values, **counters):
            ScheduledJobState.objects.create(name=name, runs=1, failures=int(action == "failed"), **values)
    except Exception:
        log.warning("could not record the state of job %s", name, exc_info=True, extra={"job": name})


@contextmanager
def job_run(name: str) -> Iterator[JobRun]:
    """Log start and end (or failure) of one run of job `name` and record it in ScheduledJobState."""
    run = JobRun(name=name, started_at=timezone.now())
    log.info("job %s started", name, extra={"job": name, "event": "start"})
    _record("start", name, last_started_at=run.started_at)
    try:
        yield run
    except BaseException as exc:
        duration_ms = run.elapsed_ms()
        if _is_retry(exc):
            log.info(
                "job %s will retry: %s",
                name,
                exc,
                extra={"job": name, "event": "retry", "duration_ms": duration_ms},
            )
            raise
        error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]
        log.error(
            "job %s failed after %d ms: %s",
            name,
            duration_ms,
            error,
            exc_info=True,
            extra={"job": name, "event": "failed", "duration_ms": duration_ms, "error": error},
        )
        now = timezone.now()
        _record(
            "failed",
            name,
            last_finished_at=now,
            last_failure_at=now,
            last_ok=False,
            last_duration_ms=duration_ms,
            last_error=error,
        )
        raise
    duration_ms = run.elapsed_ms()
    log.info(
        "job %s finished in %d ms",
        name,
        duration_ms,
        extra={"job": name, "event": "end", "duration_ms": duration_ms, "counts": run.counts},
    )
    now = timezone.now()
    _record(
        "end",
        name,
        last_finished_at=now,
        last_success_at=now,
        last_ok=True,
        last_duration_ms=duration_ms,
        last_error="",
        last_counts=run.counts,
    )


def scheduled_job(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of job_run(); the return value (int or dict) becomes the run's counts."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with job_run(name) as run:
                result = func(*args, **kwargs)
                run.counts = counts_from_result(result)
            return result

        wrapper.scheduled_job_name = name  # type: ignore[attr-defined]
        return wrapper

    return decorate


def scheduled_job_name(task: object) -> str | None:
    """The job name a Celery task (or plain function) was decorated with, or None."""
    func = getattr(task, "run", task)
    return getattr(func, "scheduled_job_name", None)
