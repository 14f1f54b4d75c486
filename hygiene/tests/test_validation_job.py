"""A validation job end to end against the local DNS server: every verdict, the counts, the result file
and the DNS cache (one lookup per distinct domain, not per address)."""

import pytest

from campaigns.models import Suppression
from core.models import AuditEvent
from hygiene.models import ValidationChunk
from hygiene.services import validation_job_run
from hygiene.tests.factories import add_zone, make_job, result_table


@pytest.fixture
def dns(dns_server, settings):
    add_zone(dns_server)
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    settings.DNS_TIMEOUT = 0.3
    return dns_server


CASES = [
    ("ana@good.example", "valid", ""),
    ("bob@a-only.example", "valid", ""),
    ("cy@missing.example", "invalid", "domain_not_found"),
    ("dee@no-host.example", "invalid", "no_mail_server"),
    ("eve@null.example", "invalid", "null_mx"),
    ("fay@slow.example", "unknown", "dns_timeout"),
    ("gus@mailinator.com", "risky", "disposable"),
    ("postmaster@good.example", "risky", "role_account"),
    ("blocked@good.example", "invalid", "suppressed"),
    ("ANA@good.example", "invalid", "duplicate"),
    ("not an address", "invalid", "bad_syntax"),
]


def test_it_gives_each_address_its_verdict(tenant_a, dns):
    Suppression.objects.create(tenant=tenant_a, email="blocked@good.example", reason="manual", created_by="t")
    job = make_job(tenant_a, "name,email\n" + "\n".join(f"n{i},{a}" for i, (a, _, _) in enumerate(CASES)))

    job = validation_job_run(job_id=job.pk)

    assert job.status == "done"
    assert (job.done, job.total) == (len(CASES), len(CASES))
    rows = result_table(job)
    assert rows[0] == ["name", "email", "status", "reason"]
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == CASES
    assert job.counts["status"] == {"valid": 2, "invalid": 6, "risky": 2, "unknown": 1}
    assert job.counts["reason"]["null_mx"] == 1
    assert job.finished_at is not None


def test_it_never_calls_a_timed_out_domain_invalid(tenant_a, dns):
    job = make_job(tenant_a, lines=[f"u{i}@slow.example" for i in range(5)])
    job = validation_job_run(job_id=job.pk)
    assert job.counts["status"]["invalid"] == 0
    assert job.counts["status"]["unknown"] == 5


def test_it_checks_the_suppression_list_of_the_jobs_tenant_only(tenant_a, tenant_b, dns):
    Suppression.objects.create(tenant=tenant_b, email="ana@good.example", reason="manual", created_by="t")
    job = validation_job_run(job_id=make_job(tenant_a, lines=["ana@good.example"]).pk)
    assert result_table(job)[1][1:] == ["valid", ""]


def test_it_matches_a_suppression_stored_in_idna_form(tenant_a, dns_server, settings):
    dns_server.add("xn--exmple-cua.com", "MX", "10 mx.xn--exmple-cua.com.")
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    Suppression.objects.create(
        tenant=tenant_a, email="ana@xn--exmple-cua.com", reason="hard_bounce", created_by="t"
    )
    job = validation_job_run(job_id=make_job(tenant_a, lines=["ana@exämple.com", "bo@exämple.com"]).pk)
    assert [r[1:] for r in result_table(job)[1:]] == [["invalid", "suppressed"], ["valid", ""]]


def test_it_looks_up_each_distinct_domain_once(tenant_a, dns, settings):
    settings.VALIDATION_CHUNK_ROWS = 7  # the cache must hold across chunks too
    domains = ["good.example", "a-only.example", "missing.example", "null.example", "no-host.example"]
    lines = [f"user{i}@{domains[i % len(domains)]}" for i in range(100)]
    job = make_job(tenant_a, lines=lines)
    dns.reset_count()

    job = validation_job_run(job_id=job.pk)

    # MX for each domain; A too for a-only; A and AAAA too for no-host.
    expected = 1 + 2 + 1 + 1 + 3
    assert dns.query_count == expected
    assert job.counts["dns"] == {"domains": 5, "queries": expected}
    assert ValidationChunk.objects.filter(job=job).count() == 15


def test_it_skips_dns_for_rows_already_decided(tenant_a, dns):
    job = make_job(tenant_a, lines=["bad syntax", "ana@good.example", "ana@good.example"])
    dns.reset_count()
    validation_job_run(job_id=job.pk)
    assert dns.query_count == 1


def test_it_keeps_original_columns_delimiter_and_ragged_rows(tenant_a, dns):
    text = "email;status;note\nana@good.example;vip;x\nbob@missing.example\n"
    job = validation_job_run(job_id=make_job(tenant_a, text).pk)
    assert result_table_semicolon(job) == [
        ["email", "status", "note", "validation_status", "reason"],
        ["ana@good.example", "vip", "x", "valid", ""],
        ["bob@missing.example", "", "", "invalid", "domain_not_found"],
    ]


def result_table_semicolon(job):
    import csv
    import io

    from hygiene.services import validation_result_rows

    return list(csv.reader(io.StringIO("".join(validation_result_rows(job))), delimiter=";"))


def test_it_writes_no_header_when_the_upload_had_none(tenant_a, dns):
    job = validation_job_run(job_id=make_job(tenant_a, "ana@good.example,Ana\ncy@missing.example,Cy\n").pk)
    assert result_table(job) == [
        ["ana@good.example", "Ana", "valid", ""],
        ["cy@missing.example", "Cy", "invalid", "domain_not_found"],
    ]


def test_it_audits_the_upload_once(tenant_a, admin_a):
    job = make_job(tenant_a, lines=["ana@good.example"], by=admin_a)
    events = AuditEvent.objects.filter(action="validation.create")
    assert events.count() == 1
    assert events.get().after["rows"] == 1
    assert job.created_by == admin_a


def test_running_a_finished_job_again_changes_nothing(tenant_a, dns):
    job = validation_job_run(job_id=make_job(tenant_a, lines=["ana@good.example"]).pk)
    before = (job.done, job.counts, job.finished_at)
    again = validation_job_run(job_id=job.pk)
    assert (again.done, again.counts, again.finished_at) == before
    assert ValidationChunk.objects.filter(job=job).count() == 1
