"""List hygiene pages per persona: upload (admins, operators for a chosen tenant), read-only viewers,
404 for another tenant's job, the htmx progress partial, the summary and the result download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hygiene.models import ValidationJob
from hygiene.services import validation_job_run
from hygiene.tests.factories import add_zone, make_job

SMTP_NOTICE = "We never probe mailboxes over SMTP: it gets sending IPs listed"


@pytest.fixture
def dns(dns_server, settings):
    add_zone(dns_server)
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return dns_server


def _csv(text: str, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_an_admin_uploads_a_list_and_gets_the_result(
    login, admin_a, tenant_a, dns, django_capture_on_commit_callbacks
):
    client = login(admin_a)
    page = client.get("/validation/")
    assert page.status_code == 200
    assert SMTP_NOTICE in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/validation/", {"file": _csv("name,email\nAna,ana@good.example\nCy,cy@missing.example\n")}
        )
    job = ValidationJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/validation/{job.pk}/"
    assert (job.tenant, job.created_by, job.filename, job.status) == (tenant_a, admin_a, "list.csv", "done")

    detail = client.get(f"/validation/{job.pk}/")
    html = detail.content.decode()
    assert SMTP_NOTICE in html
    assert 'hx-trigger="every 1s"' not in html  # done: no more polling
    assert "Download the result CSV" in html
    assert "Domain does not exist" in html
    assert "<progress" in html

    download = client.get(f"/validation/{job.pk}/result.csv")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="list-checked-{job.pk}.csv"'
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines() == [
        "name,email,status,reason",
        "Ana,ana@good.example,valid,",
        "Cy,cy@missing.example,invalid,domain_not_found",
    ]


def test_pasted_addresses_make_a_job(login, admin_a, dns, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login(admin_a).post("/validation/", {"addresses": "ana@good.example\npostmaster@good.example\n"})
    job = ValidationJob.objects.get()
    assert (job.source, job.total, job.status) == ("paste", 2, "done")
    assert job.counts["status"]["risky"] == 1


def test_a_running_job_polls_its_progress_partial(login, admin_a, tenant_a):
    job = make_job(tenant_a, lines=["ana@good.example"] * 3)
    ValidationJob.objects.filter(pk=job.pk).update(status="running", done=1)
    client = login(admin_a)
    html = client.get(f"/validation/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="/validation/{job.pk}/"' in html
    assert f'href="/validation/{job.pk}/result.csv"' not in html

    partial = client.get(
        f"/validation/{job.pk}/", headers={"HX-Request": "true", "HX-Target": "validation-progress"}
    )
    text = partial.content.decode()
    assert "<html" not in text
    assert text.lstrip().startswith('<div id="validation-progress"')
    assert 'value="1" max="3"' in text
    assert 'hx-trigger="every 1s"' in text

    ValidationJob.objects.filter(pk=job.pk).update(status="done", done=3)
    done = client.get(
        f"/validation/{job.pk}/", headers={"HX-Request": "true", "HX-Target": "validation-progress"}
    )
    assert 'hx-trigger="every 1s"' not in done.content.decode()


def test_the_result_waits_until_the_job_is_done(login, admin_a, tenant_a):
    job = make_job(tenant_a, lines=["ana@good.example"])
    response = login(admin_a).get(f"/validation/{job.pk}/result.csv")
    assert response.status_code == 302
    assert response["Location"] == f"/validation/{job.pk}/"


def test_a_failed_job_shows_why(login, admin_a, tenant_a):
    job = make_job(tenant_a, lines=["ana@good.example"])
    ValidationJob.objects.filter(pk=job.pk).update(status="failed", error="Stopped after 5 attempts")
    html = login(admin_a).get(f"/validation/{job.pk}/").content.decode()
    assert "Stopped after 5 attempts" in html
    assert 'hx-trigger="every 1s"' not in html


def test_viewers_read_but_cannot_upload(login, viewer_a, tenant_a, dns):
    job = validation_job_run(job_id=make_job(tenant_a, lines=["ana@good.example"]).pk)
    client = login(viewer_a)
    page = client.get("/validation/")
    assert page.status_code == 200
    assert page.context["form"] is None
    assert 'enctype="multipart/form-data"' not in page.content.decode()
    assert client.post("/validation/", {"addresses": "ana@good.example"}).status_code == 403
    assert ValidationJob.objects.count() == 1
    assert client.get(f"/validation/{job.pk}/").status_code == 200
    assert client.get(f"/validation/{job.pk}/result.csv").status_code == 200


def test_another_tenants_job_is_not_found(login, admin_a, admin_b, tenant_b):
    job = make_job(tenant_b, lines=["ana@good.example"])
    ValidationJob.objects.filter(pk=job.pk).update(status="done")
    client = login(admin_a)
    assert client.get(f"/validation/{job.pk}/").status_code == 404
    assert client.get(f"/validation/{job.pk}/result.csv").status_code == 404
    assert list(client.get("/validation/").context["page"]) == []
    assert login(admin_b).get(f"/validation/{job.pk}/").status_code == 200


def test_operators_see_every_tenant_and_must_pick_one_to_upload(
    login, operator, tenant_a, tenant_b, dns, django_capture_on_commit_callbacks
):
    make_job(tenant_a, lines=["a@good.example"])
    make_job(tenant_b, lines=["b@good.example"])
    client = login(operator)
    assert len(client.get("/validation/").context["page"]) == 2
    assert [j.tenant for j in client.get(f"/validation/?tenant={tenant_b.pk}").context["page"]] == [tenant_b]

    response = client.post("/validation/", {"addresses": "ana@good.example"})
    assert response.status_code == 400
    assert "tenant" in response.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/validation/", {"addresses": "ana@good.example", "tenant": tenant_b.pk})
    assert response.status_code == 302
    assert ValidationJob.objects.filter(tenant=tenant_b).count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a CSV file or paste some addresses."),
        ({"file": ("book.xlsx", b"PK\x03\x04...")}, "is not a CSV file"),
        ({"file": ("list.csv", b"PK\x03\x04...")}, "Excel workbook"),
        ({"file": ("list.csv", b"name,phone\nAna,1\n")}, "No email column found"),
        ({"file": ("list.csv", "email\nJosé@example.com\n".encode("latin-1"))}, "is not UTF-8 text"),
        ({"file": ("list.csv", b"email\na@example.com\n"), "addresses": "b@example.com"}, "not both"),
    ],
)
def test_bad_uploads_get_a_clear_error(login, admin_a, data, message):
    if "file" in data:
        name, content = data["file"]
        data = {**data, "file": SimpleUploadedFile(name, content)}
    response = login(admin_a).post("/validation/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ValidationJob.objects.count() == 0


def test_a_file_over_the_limit_is_refused(login, admin_a, settings):
    settings.VALIDATION_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    response = login(admin_a).post("/validation/", {"file": _csv("email\n" + "a@example.com\n" * 200_000)})
    assert response.status_code == 400
    assert "larger than 2 MB" in response.content.decode()


def test_the_job_list_has_a_flat_query_count(login, admin_a, tenant_a, django_assert_max_num_queries):
    client = login(admin_a)
    make_job(tenant_a, lines=["a@good.example"], by=admin_a)
    with django_assert_max_num_queries(12) as few:
        client.get("/validation/")
    for i in range(55):
        make_job(tenant_a, lines=[f"a{i}@good.example"], by=admin_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/validation/?page=2")
    assert len(response.context["page"].object_list) == 6


def test_the_nav_links_list_hygiene(login, viewer_a):
    assert 'href="/validation/"' in login(viewer_a).get("/").content.decode()


def test_pasting_more_than_a_form_may_carry_is_refused_clearly(login, admin_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = login(admin_a).post("/validation/", {"addresses": "ana@example.com\n" * 200})
    assert response.status_code == 400
    assert "too large for a form" in response.content.decode()
    assert ValidationJob.objects.count() == 0
