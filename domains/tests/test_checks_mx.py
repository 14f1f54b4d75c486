"""Return-path MX check against a real DNS server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import dns.resolver
import pytest

from core.dnsresolver import make_resolver
from domains.checks.mx import check_mx
from testsupport.dnsserver import LocalDNSServer

RETURN_PATH = "bounce.example.com"


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


def test_it_accepts_an_mx_pointing_at_the_pmta_host(server, resolver):
    server.add(RETURN_PATH, "MX", "10 pmta1.example.com.")
    server.add(RETURN_PATH, "MX", "20 pmta2.example.com.")
    server.add("pmta1.example.com", "A", "192.0.2.10")
    server.add("pmta2.example.com", "AAAA", "2001:db8::10")

    result = check_mx(RETURN_PATH, resolver=resolver, expected_hosts=["PMTA2.example.com."])

    assert result.status == "ok", result.explanation
    assert result.check == "mx"
    assert result.details["mx"] == ["10 pmta1.example.com", "20 pmta2.example.com"]
    assert result.expected_record == ""


def test_it_reports_a_missing_mx(server, resolver):
    server.add(RETURN_PATH, "A", "192.0.2.10")

    result = check_mx(RETURN_PATH, resolver=resolver, expected_hosts=["pmta1.example.com"])

    assert result.status == "missing"
    assert "no MX records" in result.explanation
    assert result.expected_record == "bounce.example.com. 3600 IN MX 10 pmta1.example.com."


def test_it_reports_a_return_path_domain_that_does_not_exist(resolver):
    result = check_mx(RETURN_PATH, resolver=resolver)

    assert result.status == "missing"
    assert "does not exist" in result.explanation
    assert result.expected_record == ""


def test_it_rejects_a_null_mx(server, resolver):
    server.add(RETURN_PATH, "MX", "0 .")

    result = check_mx(RETURN_PATH, resolver=resolver)

    assert result.status == "invalid"
    assert "null MX (RFC 7505)" in result.explanation


def test_it_warns_when_no_expected_host_is_an_mx(server, resolver):
    server.add(RETURN_PATH, "MX", "10 mx.other.example.")
    server.add("mx.other.example", "A", "198.51.100.1")

    result = check_mx(RETURN_PATH, resolver=resolver, expected_hosts=["pmta1.example.com"])

    assert result.status == "warning"
    assert "not at pmta1.example.com" in result.explanation


def test_it_rejects_mx_hosts_without_addresses(server, resolver):
    server.add(RETURN_PATH, "MX", "10 gone.example.com.")

    result = check_mx(RETURN_PATH, resolver=resolver)

    assert result.status == "invalid"
    assert result.details["unresolved_hosts"] == ["gone.example.com"]


@pytest.mark.parametrize(("behaviour", "reason"), [("timeout", "timeout"), ("refused", "REFUSED")])
def test_it_reports_unknown_when_dns_does_not_answer(server, behaviour, reason):
    server.set_behaviour(RETURN_PATH, behaviour)
    fast = make_resolver([server.nameserver], timeout=0.2, lifetime=0.5)

    result = check_mx(RETURN_PATH, resolver=fast)

    assert result.status == "unknown"
    assert result.explanation == f"DNS did not answer ({reason}) - retry"
