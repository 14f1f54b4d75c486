"""Suppression CSV import (every bad line reported with its number and reason, duplicates counted) and the
streamed export, which imports back unchanged."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Suppression
from campaigns.services.suppression import parse_suppression_csv, suppression_import_csv
from campaigns.tests.page_factories import make_suppression
from core.models import AuditEvent


def upload(content: bytes, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_it_reads_a_headerless_single_column_file():
    parsed = parse_suppression_csv(b"a@example.com\nB@Example.com\n\n  c@example.com  \n")
    assert list(parsed.addresses) == ["a@example.com", "b@example.com", "c@example.com"]
    assert not parsed.report.header and parsed.report.errors == []


def test_it_finds_the_email_column_by_header_or_by_content():
    parsed = parse_suppression_csv(b"name;E-mail;note\nAnn;ann@example.com;moved\nBob;bob@example.com;\n")
    assert parsed.report.header and parsed.report.email_column == "E-mail"
    assert parsed.addresses == {"ann@example.com": (2, "moved"), "bob@example.com": (3, "")}
    parsed = parse_suppression_csv(b"Ann,ann@example.com,2024\nBob,bob@example.com,2025\n")
    assert parsed.report.email_column == "column 2"
    assert list(parsed.addresses) == ["ann@example.com", "bob@example.com"]


def test_it_reports_every_bad_line_with_number_and_reason():
    data = (
        b"email,detail\n"  # 1
        b"ok@example.com,x\n"  # 2
        b"not-an-address,y\n"  # 3
        b",missing\n"  # 4
        b"\n"  # 5 blank: skipped silently
        b"OK@example.com,again\n"  # 6 duplicate
        b"bad@@example.com\n"  # 7
        b"fine@example.org\n"  # 8
    )
    parsed = parse_suppression_csv(data)
    assert [(e.line, e.reason) for e in parsed.report.errors] == [
        (3, "not a valid email address: 'not-an-address'"),
        (4, "no address in column 1"),
        (7, "not a valid email address: 'bad@@example.com'"),
    ]
    assert parsed.report.errors[0].excerpt == "not-an-address,y"
    assert parsed.report.duplicates == 1
    assert parsed.report.lines == 6
    assert list(parsed.addresses) == ["ok@example.com", "fine@example.org"]


def test_it_refuses_a_header_without_an_email_column():
    parsed = parse_suppression_csv(b"name,note\nAnn,x\n")
    assert [(e.line, e.reason) for e in parsed.report.errors] == [
        (1, "the header has no email column (name one 'email')")
    ]
    assert parsed.addresses == {}


@pytest.mark.django_db
def test_it_imports_counts_existing_and_audits_once(tenant_a, tenant_b, admin_a):
    make_suppression(tenant_a, "old@example.com", reason="hard_bounce")
    make_suppression(tenant_b, "new@example.com")  # another tenant's entry does not count as existing
    report = suppression_import_csv(
        tenant=tenant_a,
        data=b"old@example.com\nnew@example.com\nnew@example.com\nnope\n",
        by=admin_a,
        filename="l.csv",
    )
    assert (report.added, report.already, report.duplicates, report.errors_total) == (1, 1, 1, 1)
    entry = Suppression.objects.get(tenant=tenant_a, email="new@example.com")
    assert (entry.reason, entry.created_by, entry.detail) == ("import", "admin-a", "imported from l.csv")
    assert Suppression.objects.get(tenant=tenant_a, email="old@example.com").reason == "hard_bounce"
    event = AuditEvent.objects.get()
    assert (event.action, event.tenant_id) == ("suppression.import", tenant_a.pk)
    assert event.after["added"] == 1 and event.after["errors"] == 1


def _import_through_the_page(client, content: bytes, name: str = "list.csv", capture=None):
    """POST the upload (stored as a job and queued), run the queued job, then show the job page."""
    with capture(execute=True):
        response = client.post("/suppression/import/", {"file": upload(content, name)})
    assert response.status_code == 302
    return client.get(response["Location"])


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.django_db
def test_it_shows_the_import_report_on_the_page(
    login, admin_a, tenant_a, eager, django_capture_on_commit_callbacks
):
    content = b"email\nx@example.com\nbroken\ny@example.com\nx@example.com\n"
    response = _import_through_the_page(login(admin_a), content, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.added, report.duplicates, report.errors_total) == (2, 1, 1)
    html = response.content.decode()
    assert "<td>3</td><td>not a valid email address: &#x27;broken&#x27;</td>" in html
    assert set(Suppression.objects.filter(tenant=tenant_a).values_list("email", flat=True)) == {
        "x@example.com",
        "y@example.com",
    }
    assert AuditEvent.objects.filter(action="suppression.import").count() == 1


@pytest.mark.django_db
def test_it_exports_a_streamed_csv_that_imports_back(
    login, admin_a, tenant_a, tenant_b, eager, django_capture_on_commit_callbacks
):
    make_suppression(tenant_a, "one@example.com", reason="hard_bounce", detail="smtp;550 5.1.1 user unknown")
    make_suppression(tenant_a, "two@example.com", reason="complaint", detail='abuse, "quoted"')
    make_suppression(tenant_b, "theirs@example.com")
    client = login(admin_a)
    response = client.get("/suppression/export.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    assert 'filename="suppression-tenant-a-' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["email"], r["reason"]) for r in rows] == [
        ("one@example.com", "hard_bounce"),
        ("two@example.com", "complaint"),
    ]
    assert rows[1]["detail"] == 'abuse, "quoted"'

    Suppression.objects.filter(tenant=tenant_a).delete()
    response = _import_through_the_page(
        client, body, "export.csv", capture=django_capture_on_commit_callbacks
    )
    report = response.context["report"]
    assert (report.added, report.errors_total) == (2, 0)
    back = {s.email: s.detail for s in Suppression.objects.filter(tenant=tenant_a)}
    assert back == {"one@example.com": "smtp;550 5.1.1 user unknown", "two@example.com": 'abuse, "quoted"'}


@pytest.mark.django_db
def test_it_exports_every_tenant_with_a_tenant_column_for_operators(login, operator, tenant_a, tenant_b):
    make_suppression(tenant_a, "a@example.com")
    make_suppression(tenant_b, "b@example.com")
    response = login(operator).get("/suppression/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {(r["email"], r["tenant"]) for r in rows} == {
        ("a@example.com", "tenant-a"),
        ("b@example.com", "tenant-b"),
    }
    response = login(operator).get(f"/suppression/export.csv?tenant={tenant_b.pk}")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["email"] for r in rows] == ["b@example.com"]
