"""Suppression CSV imports through the API: the dashboard's background job, with a status route to poll."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Suppression, SuppressionImport
from campaigns.services.suppression_import import suppression_import_run
from core.audit import request_context
from core.models import AuditEvent
from testsupport.api import api_as

pytestmark = pytest.mark.django_db


def _upload(api, data: bytes, **fields):
    upload = SimpleUploadedFile("list.csv", data, content_type="text/csv")
    return api.client.post("/api/v1/suppressions/import", {"file": upload, **fields}, headers=api.headers)


def test_it_queues_the_import_as_a_job_and_reports_its_progress(
    admin_a, tenant_a, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr("campaigns.tasks.suppression_import_run_task.delay", queued.append)
    api = api_as(admin_a, "import")

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(api, b"email\na@example.com\nnot-an-address\na@example.com\n")

    assert response.status_code == 202, response.content
    job = response.json()
    assert (job["status"], job["tenant"], job["filename"], job["total_lines"]) == (
        "new",
        "tenant-a",
        "list.csv",
        4,
    )
    assert queued == [job["id"]]
    assert not Suppression.objects.exists()

    # The worker runs the job (the task calls this service); the status route then shows the summary.
    suppression_import_run(job_id=job["id"])
    done = api.get(f"suppressions/imports/{job['id']}").json()
    assert (done["status"], done["percent"], done["added"], done["duplicates"], done["errors"]) == (
        "done",
        100,
        1,
        1,
        1,
    )
    assert done["first_errors"][0]["line"] == 3
    assert Suppression.objects.get().email == "a@example.com"
    # The worker wrote it, outside any request: still the user, through their token, from their address.
    event = AuditEvent.objects.get(action="suppression.import")
    via = f"api token: {api.token_name}"
    assert (event.actor, event.via, event.ip_address) == (admin_a, via, "127.0.0.1")
    assert request_context() == (None, "")  # nothing of it stays with the worker

    listed = api.get("suppressions/imports").json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]
    assert api.get("suppressions/imports", status="running").json()["count"] == 0


def test_a_tenant_sees_only_its_own_import_jobs(admin_a, admin_b, tenant_b):
    other = SuppressionImport.objects.create(tenant=tenant_b, created_by_label="b", data=b"x@example.com\n")
    api = api_as(admin_a)
    assert api.get(f"suppressions/imports/{other.pk}").status_code == 404
    assert api.get("suppressions/imports").json()["count"] == 0
    assert api_as(admin_b).get("suppressions/imports").json()["count"] == 1


def test_a_viewer_cannot_import(viewer_a):
    response = _upload(api_as(viewer_a), b"a@example.com\n")
    assert response.status_code == 403
    assert not SuppressionImport.objects.exists()


def test_an_operator_names_the_tenant(operator, tenant_a):
    api = api_as(operator)
    missing = _upload(api, b"a@example.com\n")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "tenant"
    response = _upload(api, b"a@example.com\n", tenant=tenant_a.pk)
    assert response.status_code == 202 and response.json()["tenant"] == "tenant-a"


def test_an_upload_from_the_page_is_audited_without_a_token(
    client, login, admin_a, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("campaigns.tasks.suppression_import_run_task.delay", lambda job_id: None)
    login(admin_a)
    upload = SimpleUploadedFile("list.csv", b"a@example.com\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/suppression/import/", {"file": upload})
    assert response.status_code == 302, response.content[:300]
    job = SuppressionImport.objects.get()

    suppression_import_run(job_id=job.pk)

    event = AuditEvent.objects.get(action="suppression.import")
    assert (event.actor, event.via, event.ip_address) == (admin_a, "", "127.0.0.1")
