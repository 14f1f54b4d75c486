"""DMARC check against a real DNS server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import dns.resolver
import pytest

from core.dnsresolver import make_resolver
from domains.checks.dmarc import check_dmarc, organizational_domain, spf_aligned
from testsupport.dnsserver import LocalDNSServer

NAME = "_dmarc.example.com"


@pytest.fixture(scope="module")
def _running_server() -> Iterator[LocalDNSServer]:
    with LocalDNSServer() as server:
        yield server


@pytest.fixture
def server(_running_server: LocalDNSServer) -> LocalDNSServer:
    _running_server.clear()
    return _running_server


@pytest.fixture
def resolver(server: LocalDNSServer) -> dns.resolver.Resolver:
    return make_resolver([server.nameserver], timeout=1.0, lifetime=2.0)


def test_it_reports_an_absent_record_and_proposes_one(resolver):
    result = check_dmarc("example.com", resolver=resolver, expected_policy="reject")

    assert result.status == "missing"
    assert result.check == "dmarc"
    assert result.expected_record == '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=reject"'


def test_it_warns_that_p_none_is_monitoring_only(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=none; rua=mailto:dmarc@example.com")

    result = check_dmarc("example.com", resolver=resolver)

    assert result.status == "warning"
    assert "monitoring only" in result.explanation
    assert result.details["policy"] == "none"
    assert result.expected_record == (
        '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"'
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("p=reject; v=DMARC1", "must start with v=DMARC1"),
        ("v=DMARC1; p=block", "p=block is not none, quarantine or reject"),
        ("v=DMARC1; p=reject; garbage", "bad tag 'garbage'"),
        ("v=DMARC1; rua=mailto:d@example.com", "no p= policy"),
        ("v=DMARC1; p=reject; pct=150", "pct=150"),
        ("v=DMARC1; p=reject; aspf=x", "aspf=x"),
        ("v=DMARC1; p=reject; rua=dmarc@example.com", "without a scheme"),
    ],
)
def test_it_rejects_invalid_syntax(server, resolver, record, message):
    server.add(NAME, "TXT", record)

    result = check_dmarc("example.com", resolver=resolver)

    assert result.status == "invalid"
    assert message in result.explanation
    assert result.expected_record.startswith('_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=')


def test_it_accepts_reject_and_reports_the_tags(server, resolver):
    record = (
        "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; pct=100; "
        "rua=mailto:a@example.com,mailto:b@x.example"
    )
    server.add(NAME, "TXT", record)
    server.add("example.com._report._dmarc.x.example", "TXT", "v=DMARC1")  # RFC 7489 7.1

    result = check_dmarc("example.com", resolver=resolver, return_path_domain="bounce.example.com")

    assert result.status == "ok", result.explanation
    assert result.expected_record == ""
    assert result.details["policy"] == "reject"
    assert result.details["subdomain_policy"] == "quarantine"
    assert result.details["pct"] == 100
    assert result.details["rua"] == ["mailto:a@example.com", "mailto:b@x.example"]
    assert (result.details["adkim"], result.details["aspf"]) == ("s", "r")
    assert result.details["spf_aligned"] is True
    assert "SPF aligns: return-path bounce.example.com matches example.com (relaxed)" in result.explanation


def test_it_explains_strict_spf_alignment(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=quarantine; aspf=s; rua=mailto:d@example.com")

    result = check_dmarc("example.com", resolver=resolver, return_path_domain="bounce.example.com")

    assert result.status == "ok"
    assert result.details["spf_aligned"] is False
    assert "SPF does not align" in result.explanation
    assert "strict, aspf=s" in result.explanation
    assert "only through DKIM" in result.explanation


def test_it_warns_when_the_policy_is_weaker_than_expected(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=quarantine; rua=mailto:d@example.com")

    result = check_dmarc("example.com", resolver=resolver, expected_policy="reject")

    assert result.status == "warning"
    assert "expected p=reject" in result.explanation
    assert "p=reject; rua=mailto:d@example.com" in result.expected_record


def test_it_warns_about_a_partial_pct(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=reject; pct=25; rua=mailto:d@example.com")

    result = check_dmarc("example.com", resolver=resolver)

    assert result.status == "warning"
    assert "25%" in result.explanation


def test_it_rejects_two_records(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=reject")
    server.add(NAME, "TXT", "v=DMARC1; p=none")

    result = check_dmarc("example.com", resolver=resolver)

    assert result.status == "invalid"
    assert "2 DMARC records" in result.explanation


def test_it_applies_the_organizational_record_to_a_subdomain(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com")

    result = check_dmarc("news.example.com", resolver=resolver)

    assert result.status == "warning"
    assert result.details["inherited"] is True
    assert result.details["effective_policy"] == "none"
    assert "_dmarc.example.com applies" in result.explanation
    assert result.expected_record.startswith('_dmarc.news.example.com. 3600 IN TXT "v=DMARC1; p=quarantine')


def test_it_reports_unknown_on_timeout(server):
    server.set_behaviour(NAME, "timeout")
    fast = make_resolver([server.nameserver], timeout=0.2, lifetime=0.5)

    result = check_dmarc("example.com", resolver=fast)

    assert result.status == "unknown"
    assert result.explanation == "DNS did not answer (timeout) - retry"


@pytest.mark.parametrize(
    ("domain", "organizational"),
    [
        ("example.com", "example.com"),
        ("bounce.mail.example.com", "example.com"),
        ("Mail.Example.COM.", "example.com"),
        ("bounce.shop.co.uk", "shop.co.uk"),
        ("shop.co.uk", "shop.co.uk"),
        ("news.brand.com.au", "brand.com.au"),
    ],
)
def test_it_approximates_the_organizational_domain(domain, organizational):
    assert organizational_domain(domain) == organizational


def test_it_does_not_align_different_registrations_under_a_public_suffix():
    assert not spf_aligned("shop.co.uk", "bounce.other.co.uk", strict=False)
    assert spf_aligned("shop.co.uk", "bounce.shop.co.uk", strict=False)
    assert not spf_aligned("shop.co.uk", "bounce.shop.co.uk", strict=True)


def test_an_external_rua_without_its_authorization_record_is_a_warning(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com,mailto:agg@reports.example")

    result = check_dmarc("example.com", resolver=resolver)

    assert result.status == "warning"
    assert "RFC 7489 7.1" in result.explanation
    assert "example.com._report._dmarc.reports.example" in result.explanation
    assert result.details["external_report_domains"] == {"reports.example": "not authorized"}


def test_authorized_external_rua_and_ruf_pass(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=reject; rua=mailto:agg@reports.example!10m; ruf=mailto:f@w.example")
    server.add("example.com._report._dmarc.reports.example", "TXT", "v=DMARC1")
    server.add("example.com._report._dmarc.w.example", "TXT", "v=DMARC1; ")

    result = check_dmarc("example.com", resolver=resolver)

    assert result.status == "ok", result.explanation
    assert result.details["external_report_domains"] == {
        "reports.example": "authorized",
        "w.example": "authorized",
    }


def test_a_rua_on_a_subdomain_of_the_same_organization_needs_no_authorization(server, resolver):
    server.add(NAME, "TXT", "v=DMARC1; p=reject; rua=mailto:d@reports.example.com")

    result = check_dmarc("example.com", resolver=resolver)

    assert result.status == "ok", result.explanation
