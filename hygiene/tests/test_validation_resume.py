"""Jobs survive a worker restart: a crash mid-job is resumed by the periodic task, every row is decided
exactly once, a presumed-dead worker that comes back cannot write twice, and nothing stays "running"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hygiene import services
from hygiene.models import ValidationChunk, ValidationJob
from hygiene.services import validation_job_run, validation_jobs_requeue_stale
from hygiene.tasks import validation_job_run_task, validation_resume_stuck_task
from hygiene.tests.factories import add_zone, make_job, result_table


class WorkerKilled(BaseException):
    """Like SIGKILL: nothing in the job code gets to catch it and mark the job failed."""


@pytest.fixture
def dns(dns_server, settings):
    add_zone(dns_server)
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    settings.VALIDATION_CHUNK_ROWS = 10
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return dns_server


def _lines(n: int) -> list[str]:
    domains = ["good.example", "a-only.example", "missing.example", "null.example"]
    lines: list[str] = []
    for i in range(n):
        # Every 7th address repeats one 12 rows back, so a resumed run must remember what earlier chunks saw.
        lines.append(lines[i - 12] if i % 7 == 6 and i >= 12 else f"user{i}@{domains[i % 4]}")
    return lines


def _crash_after(monkeypatch, chunks: int) -> None:
    real = services._commit_chunk
    calls = {"n": 0}

    def commit(*args, **kwargs):
        if calls["n"] == chunks:
            raise WorkerKilled
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_commit_chunk", commit)


def _age(job: ValidationJob, seconds: int = 3600) -> None:
    ValidationJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_it_resumes_a_job_whose_worker_died(tenant_a, dns, monkeypatch, django_capture_on_commit_callbacks):
    lines = _lines(95)
    job = make_job(tenant_a, lines=lines)
    _crash_after(monkeypatch, 3)
    with pytest.raises(WorkerKilled):
        validation_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done) == ("running", 30)
    monkeypatch.undo()

    # Still fresh: the periodic task leaves it alone (its worker may just be busy).
    with django_capture_on_commit_callbacks(execute=True):
        assert validation_resume_stuck_task() == {"requeued": 0}
    _age(job)
    with django_capture_on_commit_callbacks(execute=True):
        assert validation_resume_stuck_task() == {"requeued": 1}

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.attempts) == ("done", 95, 95, 2)
    chunks = list(ValidationChunk.objects.filter(job=job).order_by("index"))
    assert [c.index for c in chunks] == list(range(10))
    assert [c.first_row for c in chunks] == list(range(0, 95, 10))
    assert sum(len(c.results) for c in chunks) == 95
    assert sum(job.counts["status"].values()) == 95

    # The same verdicts as a run that never crashed.
    clean = validation_job_run(job_id=make_job(tenant_a, lines=lines).pk)
    assert result_table(job) == result_table(clean)
    assert job.counts["status"] == clean.counts["status"]
    assert job.counts["reason"]["duplicate"] == clean.counts["reason"]["duplicate"] > 0


def test_a_redelivered_task_resumes_a_stale_running_job(tenant_a, dns, monkeypatch):
    job = make_job(tenant_a, lines=_lines(25))
    _crash_after(monkeypatch, 1)
    with pytest.raises(WorkerKilled):
        validation_job_run(job_id=job.pk)
    monkeypatch.undo()
    # acks_late: the broker hands the same message to another worker, which finds the heartbeat stale.
    _age(job)
    validation_job_run_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 25)


def test_a_fresh_running_job_is_left_to_its_worker(tenant_a, dns, monkeypatch):
    job = make_job(tenant_a, lines=_lines(25))
    _crash_after(monkeypatch, 1)
    with pytest.raises(WorkerKilled):
        validation_job_run(job_id=job.pk)
    monkeypatch.undo()
    validation_job_run_task(job.pk)  # a duplicate message while the first worker is alive
    job.refresh_from_db()
    assert (job.status, job.done, job.attempts) == ("running", 10, 1)


def test_a_worker_presumed_dead_cannot_write_after_its_successor_took_over(tenant_a, dns, monkeypatch):
    job = make_job(tenant_a, lines=_lines(40))
    real = services._commit_chunk
    state = {"n": 0}

    def commit(*args, **kwargs):
        state["n"] += 1
        if state["n"] == 2:
            # While this worker is slow, the job is declared stale and another worker finishes it.
            _age(job)
            validation_jobs_requeue_stale()
            monkeypatch.setattr(services, "_commit_chunk", real)
            validation_job_run(job_id=job.pk)
            monkeypatch.setattr(services, "_commit_chunk", commit)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_commit_chunk", commit)
    validation_job_run(job_id=job.pk)  # the slow one: it stops quietly at its next commit
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 40)
    assert ValidationChunk.objects.filter(job=job).count() == 4
    assert sum(job.counts["status"].values()) == 40


def test_a_job_that_keeps_killing_its_worker_fails_instead_of_looping(tenant_a, dns, monkeypatch, settings):
    settings.VALIDATION_MAX_ATTEMPTS = 2
    job = make_job(tenant_a, lines=_lines(25))
    monkeypatch.setattr(services, "_commit_chunk", lambda *a, **k: (_ for _ in ()).throw(WorkerKilled()))
    for _ in range(2):
        with pytest.raises(WorkerKilled):
            validation_job_run(job_id=job.pk)
        _age(job)
    validation_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "Stopped after 2 attempts" in job.error


def test_a_job_whose_queue_message_was_lost_is_queued_again(
    tenant_a, dns, django_capture_on_commit_callbacks
):
    job = make_job(tenant_a, lines=_lines(5))  # never queued
    _age(job)
    with django_capture_on_commit_callbacks(execute=True):
        validation_resume_stuck_task()
    job.refresh_from_db()
    assert job.status == "done"


def test_an_error_fails_the_job_with_a_message(tenant_a, dns, monkeypatch):
    job = make_job(tenant_a, lines=_lines(5))

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_decide", boom)
    job = validation_job_run(job_id=job.pk)
    assert job.status == "failed"
    assert "RuntimeError" in job.error
    assert job.finished_at is not None
    assert validation_jobs_requeue_stale(now=timezone.now() + timedelta(days=1)) == []
