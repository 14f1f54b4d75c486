"""LocalDNSServer answers like a real authoritative server, and the resolver factory talks to it."""

from __future__ import annotations

import asyncio
import socket
import threading

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import dns.reversename
import pytest

from core.dnsresolver import make_async_resolver, make_resolver, parse_nameservers
from testsupport.dnsserver import LocalDNSServer, dns_server  # noqa: F401  (fixture)


@pytest.fixture
def resolver(dns_server: LocalDNSServer) -> dns.resolver.Resolver:  # noqa: F811
    return make_resolver(dns_server.nameserver, timeout=0.5, lifetime=1.0)


def test_it_answers_a_records_case_insensitively(dns_server, resolver):  # noqa: F811
    dns_server.add("Example.COM", "A", "192.0.2.1")
    dns_server.add("example.com.", "A", "192.0.2.2")
    answer = resolver.resolve("EXAMPLE.com", "A")
    assert sorted(r.to_text() for r in answer) == ["192.0.2.1", "192.0.2.2"]
    assert answer.response.flags & dns.flags.AA


def test_it_takes_records_in_the_constructor():
    records = {"example.com": {"A": ["192.0.2.1", "192.0.2.2"], "MX": "10 mx.example.com."}}
    with LocalDNSServer(records) as server:
        resolver = make_resolver(server.nameserver, timeout=1.0)
        assert len(resolver.resolve("example.com", "A")) == 2
        assert resolver.resolve("example.com", "MX")[0].exchange.to_text() == "mx.example.com."


def test_it_splits_long_txt_values_into_255_byte_strings(dns_server, resolver):  # noqa: F811
    dkim = "v=DKIM1; k=rsa; p=" + "A" * 600
    dns_server.add("sel._domainkey.example.com", "TXT", dkim)
    rdata = resolver.resolve("sel._domainkey.example.com", "TXT")[0]
    assert [len(s) for s in rdata.strings] == [255, 255, len(dkim) - 510]
    assert b"".join(rdata.strings).decode() == dkim


def test_it_keeps_short_txt_values_as_one_string(dns_server, resolver):  # noqa: F811
    dns_server.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    rdata = resolver.resolve("example.com", "TXT")[0]
    assert rdata.strings == (b"v=spf1 ip4:192.0.2.0/24 -all",)


def test_it_answers_mx_and_makes_relative_targets_absolute(dns_server, resolver):  # noqa: F811
    dns_server.add("example.com", "MX", "10 mx1.example.com.")
    dns_server.add("example.com", "MX", "20 mx2.example.com")
    answer = sorted((r.preference, r.exchange.to_text()) for r in resolver.resolve("example.com", "MX"))
    assert answer == [(10, "mx1.example.com."), (20, "mx2.example.com.")]


def test_it_answers_ptr_for_ipv4_and_ipv6(dns_server, resolver):  # noqa: F811
    dns_server.add(dns.reversename.from_address("192.0.2.10").to_text(), "PTR", "mta1.example.com.")
    dns_server.add(dns.reversename.from_address("2001:db8::10").to_text(), "PTR", "mta6.example.com.")
    assert resolver.resolve_address("192.0.2.10")[0].target.to_text() == "mta1.example.com."
    assert resolver.resolve_address("2001:db8::10")[0].target.to_text() == "mta6.example.com."


def test_it_says_nxdomain_for_unknown_names_and_nodata_for_other_types(dns_server, resolver):  # noqa: F811
    dns_server.add("example.com", "A", "192.0.2.1")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("missing.example.com", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("example.com", "TXT")


def test_it_treats_empty_non_terminals_as_nodata(dns_server, resolver):  # noqa: F811
    dns_server.add("_dmarc.example.org", "TXT", "v=DMARC1; p=none")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("example.org", "TXT")


def test_it_follows_cnames_inside_its_data(dns_server, resolver):  # noqa: F811
    dns_server.add("s1._domainkey.example.com", "CNAME", "s1.dkim.provider.test.")
    dns_server.add("s1.dkim.provider.test", "TXT", "v=DKIM1; p=abc")
    answer = resolver.resolve("s1._domainkey.example.com", "TXT")
    assert answer[0].strings == (b"v=DKIM1; p=abc",)
    assert answer.canonical_name.to_text() == "s1.dkim.provider.test."


@pytest.mark.parametrize(
    ("behaviour", "rcode"), [("servfail", dns.rcode.SERVFAIL), ("refused", dns.rcode.REFUSED)]
)
def test_it_answers_servfail_and_refused_on_request(dns_server, resolver, behaviour, rcode):  # noqa: F811
    dns_server.add("broken.example.com", "A", "192.0.2.1")
    dns_server.set_behaviour("broken.example.com", behaviour)
    reply = dns.query.udp(
        dns.message.make_query("broken.example.com", "A"), dns_server.host, port=dns_server.port, timeout=1
    )
    assert reply.rcode() == rcode
    with pytest.raises(dns.resolver.NoNameservers):
        resolver.resolve("broken.example.com", "A")
    dns_server.set_behaviour("broken.example.com", None)
    assert resolver.resolve("broken.example.com", "A")[0].to_text() == "192.0.2.1"


def test_it_never_answers_a_name_set_to_time_out(dns_server, resolver):  # noqa: F811
    dns_server.add("slow.example.com", "A", "192.0.2.1")
    dns_server.set_behaviour("SLOW.example.com", "timeout")
    # The server stays silent (a raw query gets no reply at all), so the resolver gives up at its own
    # lifetime: what is asserted is the kind of failure, never a stopwatch.
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(
            dns.message.make_query("slow.example.com", "A"),
            dns_server.host,
            port=dns_server.port,
            timeout=0.2,
        )
    with pytest.raises(dns.resolver.LifetimeTimeout):
        resolver.resolve("slow.example.com", "A")
    # Other names keep answering while one is silent.
    dns_server.add("fast.example.com", "A", "192.0.2.2")
    assert resolver.resolve("fast.example.com", "A")[0].to_text() == "192.0.2.2"


def test_it_applies_a_wildcard_behaviour_to_a_whole_zone(dns_server, resolver):  # noqa: F811
    dns_server.set_behaviour("*.zen.spamhaus.test", "refused")
    reply = dns.query.udp(
        dns.message.make_query("2.0.0.127.zen.spamhaus.test", "A"),
        dns_server.host,
        port=dns_server.port,
        timeout=1,
    )
    assert reply.rcode() == dns.rcode.REFUSED


def test_it_truncates_big_udp_answers_and_serves_them_in_full_over_tcp(dns_server, resolver):  # noqa: F811
    for n in range(60):
        dns_server.add("many.example.com", "A", f"198.51.100.{n}")
    query = dns.message.make_query("many.example.com", "A")
    udp_reply = dns.query.udp(query, dns_server.host, port=dns_server.port, timeout=1)
    assert udp_reply.flags & dns.flags.TC
    assert not udp_reply.answer
    tcp_reply = dns.query.tcp(query, dns_server.host, port=dns_server.port, timeout=1)
    assert not tcp_reply.flags & dns.flags.TC
    assert len(tcp_reply.answer[0]) == 60
    # The stub resolver does that dance on its own.
    assert len(resolver.resolve("many.example.com", "A")) == 60


def test_it_fits_big_answers_in_the_edns_payload_size(dns_server):  # noqa: F811
    for n in range(60):
        dns_server.add("many.example.com", "A", f"198.51.100.{n}")
    query = dns.message.make_query("many.example.com", "A", use_edns=0, payload=4096)
    reply = dns.query.udp(query, dns_server.host, port=dns_server.port, timeout=1)
    assert not reply.flags & dns.flags.TC
    assert len(reply.answer[0]) == 60


def test_it_counts_queries_and_clears_its_data(dns_server, resolver):  # noqa: F811
    dns_server.add("example.com", "A", "192.0.2.1")
    dns_server.reset_count()
    for _ in range(3):
        resolver.resolve("example.com", "A")
    assert dns_server.query_count == 3
    dns_server.clear()
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("example.com", "A")
    assert dns_server.query_count == 4
    dns_server.reset_count()
    assert dns_server.query_count == 0


def test_it_counts_queries_from_many_threads(dns_server):  # noqa: F811
    dns_server.add("example.com", "A", "192.0.2.1")
    dns_server.reset_count()

    def worker() -> None:
        resolver = make_resolver(dns_server.nameserver, timeout=1)
        for _ in range(50):
            resolver.resolve("example.com", "A")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert dns_server.query_count == 200


def test_it_echoes_the_question_case_of_the_client(dns_server):  # noqa: F811
    dns_server.add("example.com", "A", "192.0.2.1")
    reply = dns.query.udp(
        dns.message.make_query("ExAmPlE.cOm", "A"), dns_server.host, port=dns_server.port, timeout=1
    )
    assert reply.question[0].name.to_text() == "ExAmPlE.cOm."
    assert reply.answer[0].name.to_text() == "ExAmPlE.cOm."


def test_it_ignores_garbage_and_keeps_serving(dns_server, resolver):  # noqa: F811
    dns_server.add("example.com", "A", "192.0.2.1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x01", (dns_server.host, dns_server.port))
        sock.sendto(b"\x12\x34" + b"\xff" * 20, (dns_server.host, dns_server.port))
        sock.settimeout(1)
        reply = sock.recv(512)
    assert reply[:2] == b"\x12\x34"
    assert reply[3] & 0x0F == dns.rcode.FORMERR
    assert resolver.resolve("example.com", "A")[0].to_text() == "192.0.2.1"


def test_it_picks_one_port_for_udp_and_tcp_and_stops_cleanly():
    server = LocalDNSServer({"example.com": {"A": "192.0.2.1"}})
    server.start()
    port = server.port
    assert server.nameserver == f"127.0.0.1:{port}"
    query = dns.message.make_query("example.com", "A")
    assert dns.query.tcp(query, "127.0.0.1", port=port, timeout=1).answer
    server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_the_async_resolver_uses_the_same_server(dns_server):  # noqa: F811
    dns_server.add("example.com", "A", "192.0.2.1")

    async def go() -> list[str]:
        resolver = make_async_resolver(dns_server.nameserver, timeout=0.5)
        assert isinstance(resolver, dns.asyncresolver.Resolver)
        return [r.to_text() for r in await resolver.resolve("example.com", "A")]

    assert asyncio.run(go()) == ["192.0.2.1"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.0.2.53", [("192.0.2.53", 53)]),
        ("127.0.0.1:5353", [("127.0.0.1", 5353)]),
        ("[2001:db8::53]:5353", [("2001:db8::53", 5353)]),
        ("2001:db8::53", [("2001:db8::53", 53)]),
        ("[::1]", [("::1", 53)]),
        (" 192.0.2.1 , 192.0.2.2:54 ", [("192.0.2.1", 53), ("192.0.2.2", 54)]),
        (["192.0.2.1", "192.0.2.2:54,192.0.2.3"], [("192.0.2.1", 53), ("192.0.2.2", 54), ("192.0.2.3", 53)]),
    ],
)
def test_it_parses_nameserver_settings(value, expected):
    assert parse_nameservers(value) == expected


@pytest.mark.parametrize(
    "value", ["", "dns.example.com", "192.0.2.1:0", "192.0.2.1:99999", "[::1", "1.2.3.4:x"]
)
def test_it_rejects_bad_nameserver_settings(value):
    with pytest.raises(ValueError):
        parse_nameservers(value)


def test_the_resolver_uses_only_the_given_servers_and_ports():
    resolver = make_resolver("127.0.0.1:5353, [::1]:5354", timeout=1.5)
    assert [(ns.address, ns.port) for ns in resolver.nameservers] == [("127.0.0.1", 5353), ("::1", 5354)]
    assert resolver.timeout == 1.5
    assert resolver.lifetime == pytest.approx(4.5)
    assert make_resolver([("127.0.0.1", 5353)], lifetime=9).lifetime == 9
