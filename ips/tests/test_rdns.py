"""Forward-confirmed reverse DNS checks against a real DNS server on 127.0.0.1."""

from __future__ import annotations

import dataclasses

import dns.reversename
import pytest

from core.dnsresolver import make_resolver
from ips.rdns import RdnsResult, check_rdns
from testsupport.dnsserver import LocalDNSServer, dns_server  # noqa: F401  (fixture)


def ptr_name(ip: str) -> str:
    return dns.reversename.from_address(ip).to_text()


@pytest.fixture
def resolver(dns_server: LocalDNSServer):  # noqa: F811
    return make_resolver(dns_server.nameserver, timeout=0.5, lifetime=1.0)


def test_it_is_ok_when_the_ptr_resolves_back_to_the_ip(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("192.0.2.10"), "PTR", "mta1.example.com.")
    dns_server.add("mta1.example.com", "A", "192.0.2.10")
    dns_server.add("mta1.example.com", "A", "192.0.2.11")
    result = check_rdns("192.0.2.10", resolver=resolver)
    assert result.status == "ok"
    assert result.ptr == "mta1.example.com"
    assert sorted(result.forward_ips) == ["192.0.2.10", "192.0.2.11"]
    assert "forward-confirmed" in result.explanation


def test_it_is_ok_when_the_ptr_is_the_expected_name_in_any_case(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("192.0.2.10"), "PTR", "MTA1.Example.com.")
    dns_server.add("mta1.example.com", "A", "192.0.2.10")
    result = check_rdns("192.0.2.10", resolver=resolver, expected_hostname="mta1.example.COM.")
    assert result.status == "ok"
    assert result.ptr == "mta1.example.com"


def test_it_is_a_mismatch_when_the_ptr_is_not_the_expected_name(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("192.0.2.10"), "PTR", "static-10.isp.example.net.")
    dns_server.add("static-10.isp.example.net", "A", "192.0.2.10")
    result = check_rdns("192.0.2.10", resolver=resolver, expected_hostname="mta1.example.com")
    assert result.status == "mismatch"
    assert result.ptr == "static-10.isp.example.net"
    assert result.explanation == "PTR of 192.0.2.10 is static-10.isp.example.net, expected mta1.example.com"


def test_it_is_a_mismatch_when_the_forward_lookup_returns_other_ips(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("192.0.2.10"), "PTR", "mta1.example.com.")
    dns_server.add("mta1.example.com", "A", "198.51.100.7")
    result = check_rdns("192.0.2.10", resolver=resolver)
    assert result.status == "mismatch"
    assert result.forward_ips == ["198.51.100.7"]
    assert "resolves to 198.51.100.7, not 192.0.2.10" in result.explanation


def test_it_is_a_mismatch_when_the_ptr_name_does_not_resolve(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("192.0.2.10"), "PTR", "gone.example.com.")
    result = check_rdns("192.0.2.10", resolver=resolver)
    assert result.status == "mismatch"
    assert result.forward_ips == []
    assert "gone.example.com has no A record" in result.explanation


def test_it_is_missing_without_a_ptr(dns_server, resolver):  # noqa: F811
    result = check_rdns("192.0.2.10", resolver=resolver)
    assert result == RdnsResult("missing", "", [], "192.0.2.10 has no PTR record")


def test_it_is_missing_when_the_name_exists_without_a_ptr(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("192.0.2.10"), "TXT", "not a ptr")
    assert check_rdns("192.0.2.10", resolver=resolver).status == "missing"


@pytest.mark.parametrize("behaviour", ["timeout", "servfail", "refused"])
def test_it_is_unknown_never_missing_when_dns_does_not_answer(dns_server, resolver, behaviour):  # noqa: F811
    dns_server.set_behaviour(ptr_name("192.0.2.10"), behaviour)
    result = check_rdns("192.0.2.10", resolver=resolver)
    assert result.status == "unknown"
    assert "DNS did not answer - retry" in result.explanation


def test_it_is_unknown_when_the_forward_lookup_times_out(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("192.0.2.10"), "PTR", "mta1.example.com.")
    dns_server.set_behaviour("mta1.example.com", "timeout")
    result = check_rdns("192.0.2.10", resolver=resolver)
    assert result.status == "unknown"
    assert result.ptr == "mta1.example.com"


def test_it_checks_ipv6_with_nibble_ptrs_and_aaaa(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("2001:db8::25"), "PTR", "mta6.example.com.")
    dns_server.add("mta6.example.com", "AAAA", "2001:0db8:0000::0025")
    dns_server.add("mta6.example.com", "A", "192.0.2.10")  # the IPv4 address is irrelevant here
    result = check_rdns("2001:DB8:0::25", resolver=resolver)
    assert result.status == "ok"
    assert result.forward_ips == ["2001:db8::25"]


def test_it_is_a_mismatch_when_an_ipv6_ptr_name_has_only_an_a_record(dns_server, resolver):  # noqa: F811
    dns_server.add(ptr_name("2001:db8::25"), "PTR", "mta6.example.com.")
    dns_server.add("mta6.example.com", "A", "192.0.2.10")
    result = check_rdns("2001:db8::25", resolver=resolver)
    assert result.status == "mismatch"
    assert "has no AAAA record" in result.explanation


def test_it_rejects_something_that_is_not_an_ip(resolver):
    with pytest.raises(ValueError):
        check_rdns("mta1.example.com", resolver=resolver)


def test_the_result_is_frozen():
    result = RdnsResult("missing")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "ok"  # type: ignore[misc]
