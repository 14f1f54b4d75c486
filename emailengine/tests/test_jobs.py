"""Scheduled jobs log start/end/failure with counts and duration, keep their latest run, export metrics."""

import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from core.jobs import counts_from_result, job_run, scheduled_job, scheduled_job_name
from core.models import ScheduledJobState
from emailengine.jobs_overview import scheduled_jobs_overview

pytestmark = pytest.mark.django_db


def _job_records(caplog, name):
    return [r for r in caplog.records if getattr(r, "job", None) == name]


def test_it_logs_start_and_end_with_counts_and_duration_and_records_the_run(caplog):
    @scheduled_job("test-ok")
    def work(n: int) -> dict:
        return {"checked": n, "listed": 1}

    caplog.set_level(logging.INFO, logger="emailengine.jobs")
    assert work(5) == {"checked": 5, "listed": 1}

    start, end = _job_records(caplog, "test-ok")
    assert start.event == "start"
    assert end.event == "end"
    assert end.counts == {"checked": 5, "listed": 1}
    assert isinstance(end.duration_ms, int) and end.duration_ms >= 0

    state = ScheduledJobState.objects.get(name="test-ok")
    assert state.last_ok is True
    assert state.last_counts == {"checked": 5, "listed": 1}
    assert state.last_started_at <= state.last_success_at == state.last_finished_at
    assert state.last_error == ""
    assert (state.runs, state.failures) == (1, 0)


def test_it_records_a_failure_keeps_the_last_success_and_reraises(caplog):
    @scheduled_job("test-flaky")
    def work(fail: bool) -> int:
        if fail:
            raise RuntimeError("resolver exploded")
        return 3

    assert work(False) == 3
    first_success = ScheduledJobState.objects.get(name="test-flaky").last_success_at

    caplog.set_level(logging.INFO, logger="emailengine.jobs")
    with pytest.raises(RuntimeError, match="resolver exploded"):
        work(True)

    failed = [r for r in _job_records(caplog, "test-flaky") if r.event == "failed"]
    assert len(failed) == 1
    assert failed[0].levelno == logging.ERROR
    assert failed[0].exc_info is not None
    assert failed[0].error == "RuntimeError: resolver exploded"

    state = ScheduledJobState.objects.get(name="test-flaky")
    assert state.last_ok is False
    assert state.last_error == "RuntimeError: resolver exploded"
    assert state.last_success_at == first_success
    assert state.last_failure_at >= first_success
    assert state.last_counts == {"count": 3}  # from the last success
    assert (state.runs, state.failures) == (2, 1)


def test_it_never_lets_a_state_write_error_hide_the_jobs_result(caplog):
    @scheduled_job("test-db-away")
    def work() -> int:
        return 7

    with (
        mock.patch.object(ScheduledJobState.objects, "bulk_create", side_effect=DatabaseError("down")),
        mock.patch.object(ScheduledJobState.objects, "filter", side_effect=DatabaseError("down")),
    ):
        assert work() == 7
    assert any("could not record" in r.getMessage() for r in caplog.records)


def test_it_takes_counts_from_ints_and_dicts_only():
    assert counts_from_result(12) == {"count": 12}
    assert counts_from_result({"a": 1, "when": timezone.datetime(2026, 1, 2)}) == {
        "a": 1,
        "when": "2026-01-02 00:00:00",
    }
    assert counts_from_result("ok") is None
    assert counts_from_result(None) is None
    assert counts_from_result(True) is None


def test_it_lets_a_context_manager_body_set_counts(caplog):
    caplog.set_level(logging.INFO, logger="emailengine.jobs")
    with job_run("test-cm") as run:
        run.counts = {"files": 2}
    assert ScheduledJobState.objects.get(name="test-cm").last_counts == {"files": 2}


def test_it_wraps_every_task_in_the_beat_schedule_under_its_schedule_name():
    from emailengine.celery import app

    app.loader.import_default_modules()
    missing = []
    for key, entry in app.conf.beat_schedule.items():
        task = app.tasks.get(entry["task"])
        assert task is not None, f"beat entry {key}: task {entry['task']} is not registered"
        if scheduled_job_name(task) != key:
            missing.append(f"{key} ({entry['task']}): @scheduled_job({key!r}) under @shared_task")
    assert not missing, "scheduled tasks without job logging: " + "; ".join(missing)


def test_it_keeps_the_task_names_and_signatures():
    import inspect

    from reputation.tasks import sweep_dnsbl
    from warmup.tasks import run_daily_ramp

    assert run_daily_ramp.name == "warmup.tasks.run_daily_ramp"
    assert list(inspect.signature(run_daily_ramp.run).parameters) == ["day"]
    # Messages already queued (and beat's entry) pass only `trigger`: later parameters must be optional.
    params = list(inspect.signature(sweep_dnsbl.run).parameters.values())
    assert [p.name for p in params[:1]] == ["trigger"]
    assert all(p.default is not inspect.Parameter.empty for p in params)


def test_it_exports_last_success_and_duration_per_job_on_metrics(client):
    ScheduledJobState.objects.create(
        name="ips-health-poll",
        last_success_at=timezone.datetime(2026, 3, 1, 12, 0, tzinfo=timezone.UTC),
        last_duration_ms=1500,
        last_ok=True,
        runs=4,
    )
    ScheduledJobState.objects.create(name="reputation-sweep", last_ok=False, last_duration_ms=20, failures=2)

    body = client.get("/metrics").content.decode()

    samples = {
        (sample.name, sample.labels.get("job")): sample.value
        for family in text_string_to_metric_families(body)
        if family.name.startswith("emailengine_job_")
        for sample in family.samples
    }
    ts = timezone.datetime(2026, 3, 1, 12, 0, tzinfo=timezone.UTC).timestamp()
    assert samples[("emailengine_job_last_success_timestamp_seconds", "ips-health-poll")] == ts
    assert samples[("emailengine_job_last_duration_seconds", "ips-health-poll")] == 1.5
    assert samples[("emailengine_job_last_run_failed", "ips-health-poll")] == 0
    assert samples[("emailengine_job_last_run_failed", "reputation-sweep")] == 1
    assert samples[("emailengine_job_failures_total", "reputation-sweep")] == 2
    # never succeeded: no success sample rather than a misleading zero
    assert ("emailengine_job_last_success_timestamp_seconds", "reputation-sweep") not in samples


def test_it_lists_every_scheduled_job_with_its_latest_run_and_lateness(django_assert_max_num_queries):
    from emailengine.celery import app

    now = timezone.now()
    ScheduledJobState.objects.create(name="ips-health-poll", last_success_at=now - timedelta(hours=2))
    ScheduledJobState.objects.create(name="warmup-expire-reply-actions", last_success_at=now)
    ScheduledJobState.objects.create(name="warmup-daily-ramp", last_success_at=now - timedelta(hours=3))

    with django_assert_max_num_queries(1):
        rows = {row.name: row for row in scheduled_jobs_overview()}

    assert list(rows) == list(app.conf.beat_schedule)
    assert rows["ips-health-poll"].schedule == "every 5 min"
    assert rows["ips-health-poll"].overdue is True
    assert rows["warmup-expire-reply-actions"].overdue is False
    assert rows["warmup-daily-ramp"].schedule == "cron 0 0 * * * UTC"
    assert rows["warmup-daily-ramp"].overdue is False
    assert rows["domains-recheck"].overdue is None  # never ran
