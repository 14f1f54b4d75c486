"""Tasks go to their area's queue; a worker consuming only "warmup" really gets the warmup tasks."""

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from emailengine.celery import TASK_QUEUES, app

ROOT = Path(__file__).resolve().parents[2]


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("hygiene.tasks.validation_resume_stuck", "validation"),
        ("hygiene.tasks.some_future_task", "validation"),
        ("campaigns.validation.tasks.validation_job_run", "validation"),
        ("mailwizz.tasks.sync_all", "mailwizz"),
        ("mailwizz.tasks.feedback_all", "mailwizz"),
        ("campaigns.mailwizz.tasks.feedback", "mailwizz"),
        ("campaigns.tasks.accounting_import_dir", "accounting"),
        ("campaigns.tasks.accounting_prune_events", "accounting"),
        ("warmup.tasks.run_daily_ramp", "warmup"),
        ("warmup.tasks.expire_reply_rule_actions", "warmup"),
        ("ips.tasks.poll_all_servers", "default"),
        ("ips.tasks.poll_server_task", "default"),
        ("domains.tasks.check_domain", "default"),
        ("reputation.tasks.sweep_dnsbl", "default"),
        ("emailengine.tasks.ping", "default"),
    ],
)
def test_it_routes_each_area_to_its_queue(task_name, queue):
    assert _queue_of(task_name) == queue


def test_it_routes_every_registered_task_to_a_known_queue():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert ours
    unknown = {name: _queue_of(name) for name in ours if _queue_of(name) not in TASK_QUEUES}
    assert not unknown


def test_it_runs_one_worker_per_queue_in_compose_and_one_for_all_in_make_run():
    compose = (ROOT / "docker-compose.yml").read_text()
    for queue in TASK_QUEUES:
        assert re.search(rf"^  worker-{queue}:$", compose, re.M), f"no worker-{queue} service"
        assert re.search(rf'"-Q",\s*"{queue}"', compose), f"worker-{queue} does not consume {queue}"
    run = (ROOT / "scripts" / "run.py").read_text()
    local = re.search(r'"-Q",\s*"([a-z,]+)"', run)
    assert local and set(local.group(1).split(",")) == set(TASK_QUEUES)
    env_example = (ROOT / "deploy" / "systemd" / "emailengine.env.example").read_text()
    for queue in TASK_QUEUES:
        assert f"WORKER_CONCURRENCY_{queue.upper()}=" in env_example


def _isolated_redis(url: str) -> str:
    """The same Redis on a database number of its own, so no other worker on the host takes our task."""
    parts = urlsplit(url)
    current = parts.path.strip("/") or "0"
    number = "14" if current != "14" else "13"
    return urlunsplit(parts._replace(path=f"/{number}"))


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    host = s["HOST"] or "127.0.0.1"
    if host.startswith("/"):
        return f"postgres://{auth}@/{s['NAME']}?host={host}&port={s['PORT'] or 5432}"
    return f"postgres://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def warmup_worker(redis_url, transactional_db, tmp_path):
    """A real worker on Redis consuming only "warmup", against the test database, logging JSON."""
    import redis

    broker = _isolated_redis(redis_url)
    client = redis.Redis.from_url(broker)
    for key in client.scan_iter(match="warmup*"):
        client.delete(key)  # leftovers from an interrupted earlier run
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "REDIS_URL": broker,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "emailengine.settings",
        "LOG_FORMAT": "json",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "emailengine", "worker", "-P", "solo"),
                *("-Q", "warmup", "-l", "INFO", "-n", f"warmup-test-{uuid.uuid4().hex[:6]}@%h"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            yield broker, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_it_runs_a_warmup_task_on_a_worker_that_consumes_only_the_warmup_queue(warmup_worker):
    from core.models import ScheduledJobState
    from warmup.tasks import expire_reply_rule_actions

    broker, log_path = warmup_worker
    with app.connection_for_write(broker) as conn:
        # No queue given: the router alone sends it to "warmup", the only queue that worker reads.
        result = expire_reply_rule_actions.apply_async(connection=conn)

    deadline = time.monotonic() + 60
    state = None
    while time.monotonic() < deadline:
        state = ScheduledJobState.objects.filter(name="warmup-expire-reply-actions").first()
        if state is not None and state.last_ok is not None:
            break
        time.sleep(0.3)
    log_text = log_path.read_text(errors="replace")
    assert state is not None and state.last_ok is True, log_text
    assert state.last_counts == {"count": 0}

    # The worker logged JSON lines, the job's start and end among them, tagged with the task id.
    events = []
    for line in log_text.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("job") == "warmup-expire-reply-actions":
                events.append(entry)
    assert [e["event"] for e in events] == ["start", "end"], log_text
    assert events[1]["counts"] == {"count": 0}
    assert isinstance(events[1]["duration_ms"], int)
    assert events[1]["task_id"] == result.id


# Tasks that moved with their app: (name before the move, name now).
MOVED_TASKS = [
    ("campaigns.validation.tasks.validation_job_run", "hygiene.tasks.validation_job_run"),
    ("campaigns.validation.tasks.validation_resume_stuck", "hygiene.tasks.validation_resume_stuck"),
    *[
        (f"campaigns.mailwizz.tasks.{t}", f"mailwizz.tasks.{t}")
        for t in ("sync_all", "sync", "feedback_all", "feedback")
    ],
]


@pytest.mark.parametrize(("old", "new"), MOVED_TASKS)
def test_it_still_runs_messages_queued_under_a_moved_tasks_old_name(old, new):
    app.loader.import_default_modules()
    assert app.tasks[old].run is app.tasks[new].run
    assert _queue_of(old) == _queue_of(new)
