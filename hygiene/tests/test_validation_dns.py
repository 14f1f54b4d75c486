"""Per-domain DNS verdicts against a real DNS server on 127.0.0.1: one cached answer per domain."""

import pytest

from hygiene.dns import DomainCache, usable_address


@pytest.fixture
def zone(dns_server):
    dns_server.add("mx.example", "MX", "10 mail.mx.example.")
    dns_server.add("mail.mx.example", "A", "192.0.2.10")
    dns_server.add("a-only.example", "A", "192.0.2.20")
    dns_server.add("aaaa-only.example", "AAAA", "2001:db8::25")
    dns_server.add("txt-only.example", "TXT", "v=spf1 -all")
    dns_server.add("loopback.example", "A", "127.0.0.1")
    dns_server.add("null.example", "MX", "0 .")
    dns_server.add("alias.example", "CNAME", "mx.example.")
    dns_server.set_behaviour("slow.example", "timeout")
    dns_server.set_behaviour("broken.example", "servfail")
    return dns_server


def _cache(server) -> DomainCache:
    return DomainCache(server.nameserver, timeout=0.3, lifetime=0.6)


@pytest.mark.parametrize(
    ("domain", "outcome", "queries"),
    [
        ("mx.example", "ok", 1),
        ("alias.example", "ok", 1),
        ("missing.example", "nxdomain", 1),
        ("null.example", "null_mx", 1),
        ("a-only.example", "ok", 2),
        ("aaaa-only.example", "ok", 3),
        ("txt-only.example", "no_host", 3),
        ("loopback.example", "no_host", 3),
        ("slow.example", "timeout", 1),
        ("broken.example", "error", 1),
    ],
)
def test_it_decides_each_domain(zone, domain, outcome, queries):
    cache = _cache(zone)
    assert cache.lookup([domain]) == {domain: outcome}
    assert cache.queries == queries


def test_it_asks_once_per_domain_however_often_it_is_seen(zone):
    cache = _cache(zone)
    domains = ["mx.example", "a-only.example", "missing.example", "null.example"]
    zone.reset_count()
    cache.lookup(domains * 50)
    cache.lookup(domains)
    cache.lookup(["mx.example"] * 1000)
    # MX for each; A as well for the A-only domain.
    assert cache.queries == 5
    assert zone.query_count == 5


def test_it_looks_up_many_domains_concurrently(dns_server):
    for i in range(300):
        dns_server.add(f"d{i}.example", "MX", f"10 mx{i}.example.")
    cache = DomainCache(dns_server.nameserver, timeout=1.0, concurrency=50)
    dns_server.reset_count()
    outcomes = cache.lookup(f"d{i}.example" for i in range(300))
    assert set(outcomes.values()) == {"ok"}
    assert dns_server.query_count == 300


@pytest.mark.parametrize(
    ("address", "usable"),
    [("192.0.2.1", True), ("2001:db8::1", True), ("0.0.0.0", False), ("127.0.0.1", False), ("::1", False)],
)
def test_it_ignores_addresses_nobody_can_connect_to(address, usable):
    assert usable_address(address) is usable
