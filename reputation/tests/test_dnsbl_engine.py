"""The DNSBL engine: query names, verdicts and the sweep, against a real DNS server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from reputation.dnsbl.catalogue import CATALOGUE, Blocklist, blocklist_to_dict, by_key, ip_lists
from reputation.dnsbl.engine import Result, classify, dqs_zone, query_name, sweep, sweep_blocking
from testsupport.dnsserver import LocalDNSServer, dns_server  # noqa: F401  (fixture)

ZEN = by_key("spamhaus-zen")
DBL = by_key("spamhaus-dbl")
URIBL = by_key("uribl")
SURBL = by_key("surbl")
REP = by_key("mailspike-rep")
SPAMCOP = by_key("spamcop")


def run(targets, lists, server, **kwargs) -> list[Result]:
    kwargs.setdefault("timeout", 0.5)
    return sweep_blocking(targets, lists, nameservers=server.nameserver, **kwargs)


def one(target: str, entry: Blocklist, server: LocalDNSServer, **kwargs) -> Result:
    kind = "ip" if entry.kind == "ip" else "domain"
    (result,) = run([(target, kind)], [entry], server, **kwargs)
    return result


# ------------------------------------------------------------------------------------------------- names
def test_it_reverses_ipv4_octets():
    assert query_name("192.0.2.1", "zen.spamhaus.org") == "1.2.0.192.zen.spamhaus.org"


def test_it_uses_reversed_nibbles_for_ipv6():
    assert query_name("2001:db8::1", "zen.spamhaus.org.") == (
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org"
    )


def test_it_uses_domains_as_they_are():
    assert query_name("Example.COM.", "dbl.spamhaus.org") == "example.com.dbl.spamhaus.org"


def test_it_uses_the_dqs_zone_with_a_key():
    assert dqs_zone("zen.spamhaus.org", "abc123") == "abc123.zen.dq.spamhaus.net"
    assert query_name("192.0.2.1", "zen.spamhaus.org", dqs_key="abc123") == (
        "1.2.0.192.abc123.zen.dq.spamhaus.net"
    )
    assert ZEN.zone_for("abc123") == "abc123.zen.dq.spamhaus.net"
    assert SPAMCOP.zone_for("abc123") == "bl.spamcop.net"


# ------------------------------------------------------------------------------------------------- verdicts
def test_it_gives_the_meaning_of_known_codes():
    result = classify(ZEN, ["127.0.0.4", "127.0.0.2"], target="192.0.2.1")
    assert (result.status, result.code) == ("listed", "127.0.0.2,127.0.0.4")
    assert result.meaning.startswith("SBL") and "; XBL" in result.meaning
    assert result.zone == "zen.spamhaus.org"


def test_it_calls_an_unknown_code_a_listing():
    result = classify(SPAMCOP, ["127.0.0.42"])
    assert (result.status, result.meaning) == ("listed", "listed (unknown code 127.0.0.42)")


def test_it_never_calls_an_error_code_a_listing():
    result = classify(ZEN, ["127.255.255.254", "127.0.0.2"])
    assert (result.status, result.code) == ("error", "127.255.255.254")


def test_it_treats_answers_outside_loopback_as_resolver_errors():
    result = classify(SPAMCOP, ["203.0.113.80"])
    assert result.status == "error"
    assert "rewrites NXDOMAIN" in result.meaning


@pytest.mark.parametrize(
    ("entry", "code", "meaning"),
    [
        (URIBL, "127.0.0.2", "URIBL black: spam domain"),
        (
            URIBL,
            "127.0.0.14",
            "URIBL black: spam domain, URIBL grey: grey-area bulk sender domain, URIBL red",
        ),
        (SURBL, "127.0.0.72", "SURBL: phishing, SURBL: abuse (spam)"),
        (SURBL, "127.0.0.136", "SURBL: phishing, SURBL: cracked (compromised) site"),
        (SURBL, "127.0.0.12", "SURBL: phishing, unknown bits 4"),
        (SURBL, "127.0.0.4", "listed (unknown code 127.0.0.4)"),
    ],
)
def test_it_decodes_bitmask_lists(entry, code, meaning):
    result = classify(entry, [code])
    assert result.status == "listed"
    assert result.meaning.startswith(meaning)


def test_it_reads_list_entries_given_as_dicts():
    result = classify(blocklist_to_dict(URIBL), ["127.0.0.8"])
    assert (result.status, result.list_key) == ("listed", "uribl")
    assert result.meaning.startswith("URIBL red")


def test_the_catalogue_is_sane():
    keys = [entry.key for entry in CATALOGUE]
    assert len(keys) == len(set(keys))
    assert not [entry for entry in CATALOGUE if "sorbs" in entry.zone]
    assert all(
        entry.kind in ("ip", "domain") and entry.severity in ("critical", "major", "minor")
        for entry in CATALOGUE
    )
    assert all(entry.codes or entry.bitmask or (entry.reputation and entry.good_codes) for entry in CATALOGUE)
    assert {e.key for e in CATALOGUE if e.severity == "critical"} == {
        "spamhaus-zen",
        "spamhaus-dbl",
        "barracuda",
        "spamcop",
    }
    assert by_key("uceprotect-l1").severity == "major"
    assert by_key("uceprotect-l3").severity == "minor"
    assert not set(REP.codes) & set(REP.good_codes)


# ------------------------------------------------------------------------------------------------- sweep
def test_it_reports_listings_with_their_meaning(dns_server):  # noqa: F811
    dns_server.add(query_name("192.0.2.1", ZEN.zone), "A", "127.0.0.3")
    result = one("192.0.2.1", ZEN, dns_server)
    assert result == Result(
        "192.0.2.1", "spamhaus-zen", "zen.spamhaus.org", "listed", "127.0.0.3", ZEN.codes["127.0.0.3"]
    )


def test_it_reports_unknown_codes_as_listed(dns_server):  # noqa: F811
    dns_server.add(query_name("192.0.2.1", ZEN.zone), "A", "127.0.0.77")
    result = one("192.0.2.1", ZEN, dns_server)
    assert (result.status, result.code, result.meaning) == (
        "listed",
        "127.0.0.77",
        "listed (unknown code 127.0.0.77)",
    )


def test_nxdomain_and_nodata_are_clean(dns_server):  # noqa: F811
    dns_server.add(query_name("192.0.2.2", ZEN.zone), "TXT", "see https://example.test/")
    results = run([("192.0.2.1", "ip"), ("192.0.2.2", "ip")], [ZEN], dns_server)
    assert [(r.status, r.code, r.meaning) for r in results] == [("clean", "", "not listed")] * 2


@pytest.mark.parametrize("code", ["127.255.255.252", "127.255.255.254", "127.255.255.255"])
def test_spamhaus_error_codes_are_errors_not_listings(dns_server, code):  # noqa: F811
    dns_server.add(query_name("192.0.2.1", ZEN.zone), "A", code)
    dns_server.add(query_name("example.com", DBL.zone), "A", code)
    results = run([("192.0.2.1", "ip"), ("example.com", "domain")], [ZEN, DBL], dns_server)
    assert [(r.list_key, r.status, r.code) for r in results] == [
        ("spamhaus-zen", "error", code),
        ("spamhaus-dbl", "error", code),
    ]
    assert results[0].meaning == ZEN.error_codes[code]


def test_the_public_resolver_error_says_what_to_do(dns_server):  # noqa: F811
    dns_server.add(query_name("192.0.2.1", ZEN.zone), "A", "127.255.255.254")
    assert one("192.0.2.1", ZEN, dns_server).meaning == (
        "Spamhaus refuses queries from public/open resolvers: use your own resolver or a DQS key"
    )


def test_dbl_ip_query_error_is_an_error(dns_server):  # noqa: F811
    dns_server.add(query_name("example.com", DBL.zone), "A", "127.0.1.255")
    assert one("example.com", DBL, dns_server).status == "error"


def test_dbl_codes_are_listings(dns_server):  # noqa: F811
    dns_server.add(query_name("phish.example", DBL.zone), "A", "127.0.1.4")
    result = one("phish.example", DBL, dns_server)
    assert (result.status, result.meaning) == ("listed", "DBL: phishing domain")


@pytest.mark.parametrize("entry", [URIBL, SURBL])
def test_uribl_and_surbl_refusals_are_errors(dns_server, entry):  # noqa: F811
    dns_server.add(query_name("example.com", entry.zone), "A", "127.0.0.1")
    result = one("example.com", entry, dns_server)
    assert (result.status, result.code) == ("error", "127.0.0.1")
    assert "refused" in result.meaning


def test_it_decodes_a_bitmask_answer_from_the_server(dns_server):  # noqa: F811
    dns_server.add(query_name("spam.example", URIBL.zone), "A", "127.0.0.6")
    result = one("spam.example", URIBL, dns_server)
    assert result.status == "listed"
    assert result.meaning == "URIBL black: spam domain, URIBL grey: grey-area bulk sender domain"


@pytest.mark.parametrize("last", range(10, 21))
def test_mailspike_reputation_is_a_grade_never_a_listing(dns_server, last):  # noqa: F811
    # rep.mailspike.net grades 127.0.0.10 (worst) ... .20 (best); its block zone is bl.mailspike.net
    # (mailspike.org/usage.html). Even the worst grade is reputation, not a listing.
    dns_server.add(query_name("192.0.2.1", REP.zone), "A", f"127.0.0.{last}")
    result = one("192.0.2.1", REP, dns_server)
    assert (result.status, result.code) == ("reputation", f"127.0.0.{last}")
    assert result.meaning.startswith("Mailspike reputation:")


@pytest.mark.parametrize(("behaviour", "words"), [("servfail", "SERVFAIL"), ("refused", "REFUSED")])
def test_servfail_and_refused_are_errors(dns_server, behaviour, words):  # noqa: F811
    dns_server.set_behaviour(query_name("192.0.2.1", ZEN.zone), behaviour)
    result = one("192.0.2.1", ZEN, dns_server)
    assert (result.status, result.code) == ("error", "")
    assert words in result.meaning


def test_a_silent_list_is_an_error_after_one_retry(dns_server):  # noqa: F811
    dns_server.set_behaviour("*." + SPAMCOP.zone, "timeout")
    dns_server.reset_count()
    results = run([("192.0.2.1", "ip")], [SPAMCOP, ZEN], dns_server, timeout=0.5)
    assert [(r.list_key, r.status) for r in results] == [("spamcop", "error"), ("spamhaus-zen", "clean")]
    assert "did not answer" in results[0].meaning
    assert dns_server.query_count == 3  # ZEN once, SpamCop twice


def test_it_queries_ipv6_targets_in_nibble_form(dns_server):  # noqa: F811
    dns_server.add(query_name("2001:db8::25", ZEN.zone), "A", "127.0.0.2")
    assert one("2001:db8::25", ZEN, dns_server).status == "listed"


def test_it_queries_the_dqs_zone_with_a_key(dns_server):  # noqa: F811
    dns_server.add("1.2.0.192.secretkey.zen.dq.spamhaus.net", "A", "127.0.0.4")
    results = run([("192.0.2.1", "ip")], [ZEN, SPAMCOP], dns_server, dqs_key="secretkey")
    assert [(r.zone, r.status) for r in results] == [
        ("secretkey.zen.dq.spamhaus.net", "listed"),
        ("bl.spamcop.net", "clean"),
    ]


def test_it_asks_ip_lists_about_ips_and_domain_lists_about_domains(dns_server):  # noqa: F811
    results = run([("192.0.2.1", "ip"), ("example.com", "domain")], CATALOGUE, dns_server)
    assert [r.list_key for r in results if r.target == "192.0.2.1"] == [e.key for e in ip_lists()]
    assert [r.list_key for r in results if r.target == "example.com"] == ["spamhaus-dbl", "surbl", "uribl"]
    assert all(r.status == "clean" for r in results)


def test_it_asks_each_name_once_and_keeps_the_input_order(dns_server):  # noqa: F811
    dns_server.add(query_name("192.0.2.2", ZEN.zone), "A", "127.0.0.2")
    dns_server.reset_count()
    targets = [("192.0.2.1", "ip"), ("192.0.2.2", "ip"), ("192.0.2.1", "ip")]
    results = run(targets, [ZEN], dns_server)
    assert [(r.target, r.status) for r in results] == [
        ("192.0.2.1", "clean"),
        ("192.0.2.2", "listed"),
        ("192.0.2.1", "clean"),
    ]
    assert dns_server.query_count == 2


def test_it_falls_back_to_tcp_for_truncated_answers(dns_server):  # noqa: F811
    name = query_name("192.0.2.1", SPAMCOP.zone)
    for last in range(2, 60):
        dns_server.add(name, "A", f"127.0.0.{last}")
    result = one("192.0.2.1", SPAMCOP, dns_server)
    assert result.status == "listed"
    assert len(result.code.split(",")) == 58


def test_it_sweeps_many_targets_correctly(dns_server):  # noqa: F811
    lists = ip_lists()
    targets = [f"10.0.{i // 256}.{i % 256}" for i in range(300)]
    expected = {}
    for i, ip in enumerate(targets):
        entry = lists[i % len(lists)]
        if i % 7 == 0:
            dns_server.add(query_name(ip, entry.zone), "A", "127.0.0.2")
            # Mailspike rep grades every answer (a reputation, never a listing).
            expected[(ip, entry.key)] = "reputation" if entry.reputation else "listed"
        elif i % 11 == 0:
            dns_server.set_behaviour(query_name(ip, entry.zone), "servfail")
            expected[(ip, entry.key)] = "error"
    results = run([(ip, "ip") for ip in targets], lists, dns_server, concurrency=50)
    assert len(results) == len(targets) * len(lists)
    for result in results:
        assert result.status == expected.get((result.target, result.list_key), "clean"), result


def test_the_sweep_needs_no_work_for_no_targets():
    assert asyncio.run(sweep([], CATALOGUE, nameservers="127.0.0.1:9")) == []


# ------------------------------------------------------------------------------------------- hostile server
class ScriptedServer:
    """A UDP 'server' that answers each query with stray packets first, then (optionally) the real answer."""

    def __init__(self, answer_ip: str, *, drop_first: bool = False) -> None:
        self.answer_ip = answer_ip
        self.drop_first = drop_first
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.seen = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.seen += 1
            if self.drop_first and self.seen == 1:
                continue
            query = dns.message.from_wire(data)
            qname = query.question[0].name
            # 1. the right id but another question (a spoofing attempt or a confused server)
            other = dns.message.make_query("1.1.1.10.zen.spamhaus.org", "A")
            other.id = query.id
            stray = dns.message.make_response(other)
            stray.answer.append(dns.rrset.from_text(other.question[0].name, 60, "IN", "A", "127.0.0.2"))
            self.sock.sendto(stray.to_wire(), addr)
            # 2. the right question but another id
            wrong_id = dns.message.make_response(query)
            wrong_id.id = (query.id + 1) % 65536
            wrong_id.answer.append(dns.rrset.from_text(qname, 60, "IN", "A", "127.0.0.2"))
            self.sock.sendto(wrong_id.to_wire(), addr)
            # 3. garbage
            self.sock.sendto(b"\x00\x01garbage", addr)
            # 4. the real answer, with the question in another case
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            response.set_rcode(dns.rcode.NXDOMAIN if self.answer_ip == "" else dns.rcode.NOERROR)
            if self.answer_ip:
                response.answer.append(dns.rrset.from_text(qname, 60, "IN", "A", self.answer_ip))
            wire = bytearray(response.to_wire())
            wire[12:40] = bytes(wire[12:40]).upper()
            self.sock.sendto(bytes(wire), addr)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.mark.parametrize(("answer", "status"), [("", "clean"), ("127.0.0.4", "listed")])
def test_it_matches_replies_by_id_and_question_and_ignores_strays(answer, status):
    server = ScriptedServer(answer)
    try:
        results = sweep_blocking(
            [("192.0.2.1", "ip")], [ZEN], nameservers=f"127.0.0.1:{server.port}", timeout=1
        )
    finally:
        server.close()
    assert [(r.status, r.code) for r in results] == [(status, answer)]


def test_it_retries_a_lost_query_once(dns_server):  # noqa: F811
    server = ScriptedServer("127.0.0.2", drop_first=True)
    try:
        (result,) = sweep_blocking(
            [("192.0.2.1", "ip")], [ZEN], nameservers=f"127.0.0.1:{server.port}", timeout=0.5
        )
    finally:
        server.close()
    assert (result.status, result.code) == ("listed", "127.0.0.2")
    assert server.seen == 2
