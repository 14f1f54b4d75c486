"""Suppression imports run as background jobs: every line accounted for, resumable, progress shown."""

from __future__ import annotations

import pytest

from campaigns.models import Suppression, SuppressionImport
from campaigns.services import suppression_import
from campaigns.services.suppression import suppression_import_csv
from campaigns.services.suppression_import import (
    suppression_import_create,
    suppression_import_run,
    suppression_imports_requeue_stale,
)
from campaigns.tasks import suppression_import_resume_stuck_task

pytestmark = pytest.mark.django_db


def test_a_malformed_csv_line_is_reported_and_the_lines_after_it_are_read(tenant_a, admin_a):
    """The CSV reader refuses a field over 128 KiB: before, that ended the import silently."""
    data = b"email,note\na@example.com,ok\n" + b"x" * 200_000 + b"\nc@example.com,after\nnot-an-address,x\n"
    report = suppression_import_csv(tenant=tenant_a, data=data, by=admin_a, filename="l.csv")
    assert set(Suppression.objects.filter(tenant=tenant_a).values_list("email", flat=True)) == {
        "a@example.com",
        "c@example.com",
    }
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "unreadable CSV: field larger than field limit (131072)"),
        (5, "not a valid email address: 'not-an-address'"),
    ]
    assert (report.lines, report.added, report.errors_total) == (4, 2, 2)


def test_a_stray_nul_byte_costs_one_line(tenant_a, admin_a):
    data = b"a@example.com\nb@exa\x00mple.com\nc@example.com\n"
    report = suppression_import_csv(tenant=tenant_a, data=data, by=admin_a)
    assert report.added == 2
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [(2, "not a valid email address")]
    assert "\x00" not in report.errors[0].excerpt


def test_it_commits_in_chunks_and_resumes_where_a_dead_worker_stopped(tenant_a, admin_a, monkeypatch):
    monkeypatch.setattr(suppression_import, "IMPORT_CHUNK", 3)
    lines = [f"user{i}@example.com" for i in range(10)] + ["user1@example.com", "broken"]
    job = suppression_import_create(
        tenant=tenant_a, data="\n".join(lines).encode(), by=admin_a, filename="x.csv"
    )
    assert job.total_lines == 12
    calls = {"n": 0}
    original = suppression_import._commit

    def dies_after_two_chunks(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return original(*args, **kwargs)

    monkeypatch.setattr(suppression_import, "_commit", dies_after_two_chunks)
    with pytest.raises(SystemExit):
        suppression_import_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.checkpoint_line, job.added) == ("running", 6, 6)
    assert 0 < job.percent < 100
    # The worker is gone; after STALE_AFTER the scheduled task queues the job again.
    assert suppression_imports_requeue_stale() == []
    SuppressionImport.objects.filter(pk=job.pk).update(
        updated_at=job.updated_at - suppression_import.STALE_AFTER * 2
    )
    assert suppression_imports_requeue_stale() == [job.pk]
    monkeypatch.setattr(suppression_import, "_commit", original)
    done = suppression_import_run(job_id=job.pk)
    assert (done.status, done.added, done.duplicates, done.errors_total, done.lines) == ("done", 10, 1, 1, 12)
    assert done.percent == 100 and done.attempts == 2
    assert Suppression.objects.filter(tenant=tenant_a).count() == 10
    assert suppression_import_run(job_id=job.pk) is None  # done: nothing to do


def test_the_stuck_task_requeues_through_the_queue(
    tenant_a, admin_a, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    job = suppression_import_create(tenant=tenant_a, data=b"a@example.com\n", by=admin_a)
    SuppressionImport.objects.filter(pk=job.pk).update(
        updated_at=job.created_at - suppression_import.STALE_AFTER * 2
    )
    with django_capture_on_commit_callbacks(execute=True):
        suppression_import_resume_stuck_task()
    assert SuppressionImport.objects.get(pk=job.pk).status == "done"


def test_the_job_page_is_scoped_to_its_tenant(client, login, admin_a, admin_b, operator, tenant_a):
    job = suppression_import_create(tenant=tenant_a, data=b"a@example.com\n", by=admin_a)
    suppression_import_run(job_id=job.pk)
    url = f"/suppression/imports/{job.pk}/"
    login(admin_b)
    assert client.get(url).status_code == 404
    login(operator)
    page = client.get(url)
    assert page.status_code == 200 and "Done" in page.content.decode()
    login(admin_a)
    listing = client.get("/suppression/import/").content.decode()
    assert f"/suppression/imports/{job.pk}/" in listing


def test_a_running_job_page_polls_its_progress(client, login, admin_a, tenant_a):
    job = suppression_import_create(tenant=tenant_a, data=b"a@example.com\n", by=admin_a)
    login(admin_a)
    page = client.get(f"/suppression/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page
    partial = client.get(
        f"/suppression/imports/{job.pk}/", headers={"HX-Request": "true", "HX-Target": "import-progress"}
    )
    assert "<html" not in partial.content.decode() and "import-bar" in partial.content.decode()
