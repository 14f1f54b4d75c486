"""SPF check against a real DNS server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import dns.rdata
import dns.resolver
import pytest

from core.dnsresolver import make_resolver
from domains.checks.spf import check_spf
from testsupport.dnsserver import LocalDNSServer

POOL = ["192.0.2.10", "192.0.2.11", "2001:db8:1::25"]


@pytest.fixture(scope="module")
def _running_server() -> Iterator[LocalDNSServer]:
    # One server for the module keeps the suite fast; each test starts from empty data.
    with LocalDNSServer() as server:
        yield server


@pytest.fixture
def server(_running_server: LocalDNSServer) -> LocalDNSServer:
    _running_server.clear()
    return _running_server


@pytest.fixture
def resolver(server: LocalDNSServer) -> dns.resolver.Resolver:
    return make_resolver([server.nameserver], timeout=1.0, lifetime=2.0)


def test_it_accepts_a_good_record_that_authorises_the_pool(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.8/29 include:_spf.esp.example mx -all")
    server.add("_spf.esp.example", "TXT", "v=spf1 ip6:2001:db8:1::/48 ~all")
    server.add("example.com", "MX", "10 mx.example.com.")
    server.add("mx.example.com", "A", "198.51.100.1")

    result = check_spf("example.com", resolver=resolver, authorised_ips=[*POOL, "198.51.100.1"])

    assert result.status == "ok", result.explanation
    assert result.check == "spf"
    assert result.expected_record == ""
    assert result.details["lookups"] == 2
    assert result.details["missing_ips"] == []
    assert "2 of 10 DNS lookups" in result.explanation


def test_it_reports_a_missing_record_and_suggests_one(server, resolver):
    server.add("example.com", "TXT", "google-site-verification=abc")

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "missing"
    assert result.expected_record == (
        'example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ip6:2001:db8:1::25 -all"'
    )


def test_it_reports_a_domain_that_does_not_exist_as_missing(resolver):
    result = check_spf("nowhere.example", resolver=resolver, authorised_ips=POOL)

    assert result.status == "missing"


def test_it_rejects_two_spf_records(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.10 -all")
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.11 -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "invalid"
    assert "2 SPF records" in result.explanation
    assert len(result.details["records"]) == 2


@pytest.mark.parametrize("all_term", ["+all", "all"])
def test_it_rejects_plus_all(server, resolver, all_term):
    server.add("example.com", "TXT", f"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 {all_term}")

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "invalid"
    assert "every server on the internet" in result.explanation
    assert result.expected_record.endswith('ip6:2001:db8:1::/48 -all"')


def test_it_warns_about_question_mark_all(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 ?all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "warning"
    assert "?all" in result.explanation
    assert result.expected_record.endswith('-all"')


def _nested_includes(server: LocalDNSServer, lookups: int) -> None:
    """example.com includes inc1, which includes inc2, ... : one lookup per include."""
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 include:inc1.example -all")
    for level in range(1, lookups):
        server.add(f"inc{level}.example", "TXT", f"v=spf1 include:inc{level + 1}.example ~all")
    server.add(f"inc{lookups}.example", "TXT", "v=spf1 ip4:203.0.113.0/24 ~all")


def test_it_rejects_11_lookups_through_nested_includes(server, resolver):
    _nested_includes(server, 11)

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "invalid"
    assert "SPF needs 11 DNS lookups; the limit is 10 (RFC 7208 4.6.4)" in result.explanation
    assert result.details["lookups"] == 11


def test_it_accepts_exactly_10_lookups(server, resolver):
    _nested_includes(server, 10)

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "ok", result.explanation


def test_it_stops_expanding_an_include_loop(server, resolver):
    server.add("example.com", "TXT", "v=spf1 include:loop.example -all")
    server.add("loop.example", "TXT", "v=spf1 include:example.com -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=[])

    assert result.status == "invalid"
    assert "more than" in result.explanation


def test_it_lists_the_pool_ip_that_is_not_authorised(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.10 ip6:2001:db8:1::/48 ~all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "invalid"
    assert "192.0.2.11" in result.explanation
    assert result.details["missing_ips"] == ["192.0.2.11"]
    assert result.expected_record == (
        'example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 ip6:2001:db8:1::/48 ip4:192.0.2.11 ~all"'
    )


def test_it_checks_ipv6_addresses_and_proposes_ip6(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:2::/48 -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "invalid"
    assert result.details["missing_ips"] == ["2001:db8:1::25"]
    assert "ip6:2001:db8:1::25 -all" in result.expected_record


def test_it_follows_a_redirect(server, resolver):
    server.add("example.com", "TXT", "v=spf1 redirect=_spf.example.com")
    server.add("_spf.example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 a:out.example.com -all")
    server.add("out.example.com", "AAAA", "2001:db8:1::25")

    result = check_spf("example.com", resolver=resolver, authorised_ips=POOL)

    assert result.status == "ok", result.explanation
    assert result.details["lookups"] == 2
    assert result.details["all"] == "-all"


def test_it_adds_missing_ips_before_a_redirect(server, resolver):
    server.add("example.com", "TXT", "v=spf1 redirect=_spf.example.com")
    server.add("_spf.example.com", "TXT", "v=spf1 ip4:192.0.2.10 -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=["192.0.2.10", "192.0.2.11"])

    assert result.status == "invalid"
    assert '"v=spf1 ip4:192.0.2.11 redirect=_spf.example.com"' in result.expected_record


def test_it_rejects_an_include_of_a_nonexistent_domain(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 include:gone.example -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=["192.0.2.10"])

    assert result.status == "invalid"
    assert "include:gone.example does not exist" in result.explanation


def test_it_rejects_more_than_two_void_lookups(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 a:v1.example a:v2.example mx:v3.example -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=["192.0.2.10"])

    assert result.status == "invalid"
    assert result.details["void_lookups"] == ["v1.example", "v2.example", "v3.example"]
    assert "3 lookups found nothing" in result.explanation


def test_it_counts_exists_and_ptr_as_lookups(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 exists:%{i}.allow.example ptr -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=["192.0.2.10"])

    assert result.details["lookups"] == 2
    assert result.status == "warning"  # ptr is deprecated, the macro is not evaluated
    assert "ptr" in result.explanation


def test_it_rejects_a_record_that_does_not_parse(server, resolver):
    server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.300 -all")

    result = check_spf("example.com", resolver=resolver, authorised_ips=["192.0.2.10"])

    assert result.status == "invalid"
    assert "bad address" in result.explanation
    assert 'ip4:192.0.2.10 -all"' in result.expected_record


def test_it_splits_a_long_proposed_record_into_255_byte_strings(resolver):
    ips = [f"192.0.2.{n}" for n in range(1, 40)]

    result = check_spf("example.com", resolver=resolver, authorised_ips=ips)

    rdata = dns.rdata.from_text("IN", "TXT", result.expected_record.split(" IN TXT ", 1)[1])
    assert len(rdata.strings) == 3
    assert all(len(part) <= 255 for part in rdata.strings)
    assert b"".join(rdata.strings).decode().endswith("ip4:192.0.2.39 -all")


@pytest.mark.parametrize(("behaviour", "reason"), [("timeout", "timeout"), ("servfail", "SERVFAIL")])
def test_it_reports_unknown_when_dns_does_not_answer(server, behaviour, reason):
    server.add("example.com", "TXT", "v=spf1 include:slow.example -all")
    server.add("slow.example", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    server.set_behaviour("slow.example", behaviour)
    fast = make_resolver([server.nameserver], timeout=0.2, lifetime=0.5)

    result = check_spf("example.com", resolver=fast, authorised_ips=POOL)

    assert result.status == "unknown"
    assert result.explanation == f"DNS did not answer ({reason}) - retry"
