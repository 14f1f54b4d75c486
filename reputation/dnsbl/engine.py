"""DNSBL lookups: query names, answer classification and a fast asynchronous sweep (pure Python).

Why not ``dns.asyncresolver``: it spends about a millisecond of CPU per query (answer objects, nameserver
bookkeeping, a fresh socket per query), so a sweep of a few thousand IPs against a dozen lists is CPU-bound
long before the network is. Here every query goes out through ONE connected UDP socket per nameserver. A map
from query id to future pairs replies with questions, and dnspython is only used to build and parse the
messages. A reply is accepted only if its id AND its question match a query in flight; anything else (late
replies to a retried query, strays) is dropped.

Outcomes, per (target, list):
- NXDOMAIN, or NOERROR without an A record: clean;
- an A record in the list's ``codes`` (or its bitmask): listed, with the meaning;
- an A record in the list's ``error_codes`` (Spamhaus 127.255.255.x, URIBL/SURBL 127.0.0.1): error. The list
  refused to answer, so the target is neither listed nor clean;
- an A record in a list's ``error_ranges`` (all of Spamhaus's 127.255.255.0/24): error, named or not;
- any answer of a ``reputation`` list (Mailspike rep.mailspike.net): status "reputation" with the grade;
- an A record in ``good_codes``: clean, with the note;
- an unknown 127.x code: listed, "listed (unknown code ...)";
- timeout after one retry, SERVFAIL, REFUSED: error, with what to do about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import socket
import struct
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from core.dnsresolver import parse_nameservers
from reputation.dnsbl.catalogue import (
    SPAMHAUS_ERROR_RANGE,
    SPAMHAUS_RANGE_ERROR,
    Blocklist,
    blocklist_from_dict,
)

__all__ = [
    "DQS_ZONES",
    "Result",
    "Status",
    "classify",
    "dqs_zone",
    "query_name",
    "reverse_target",
    "sweep",
    "sweep_blocking",
]

# "reputation": a grading list's answer (Mailspike rep), never a listing.
Status = Literal["listed", "clean", "error", "reputation"]

# Spamhaus public zones and their Data Query Service counterparts (the key is prefixed to the DQS zone).
DQS_ZONES = {
    "zen.spamhaus.org": "zen.dq.spamhaus.net",
    "dbl.spamhaus.org": "dbl.dq.spamhaus.net",
    "sbl.spamhaus.org": "sbl.dq.spamhaus.net",
    "xbl.spamhaus.org": "xbl.dq.spamhaus.net",
    "pbl.spamhaus.org": "pbl.dq.spamhaus.net",
    "sbl-xbl.spamhaus.org": "sbl-xbl.dq.spamhaus.net",
    "zrd.spamhaus.org": "zrd.dq.spamhaus.net",
}

MEANING_CLEAN = "not listed"
MEANING_TIMEOUT = "no answer from the resolver within {timeout:g}s, twice - DNS did not answer, retry later"
MEANING_SERVFAIL = (
    "resolver answered SERVFAIL - the list's servers are unreachable or refuse this resolver; retry later"
)
MEANING_REFUSED = "resolver REFUSED the query - check that DNS_NAMESERVERS allows recursion for this host"
MEANING_RCODE = "resolver answered {rcode} - no verdict"
MEANING_NOT_LOOPBACK = (
    "answer {code} is outside 127.0.0.0/8 - the resolver rewrites NXDOMAIN; use one that does not"
)
MEANING_TCP_FAILED = "answer was truncated and the TCP retry failed ({reason}) - retry later"


@dataclass(frozen=True, slots=True)
class Result:
    """The verdict of one list about one target."""

    target: str
    list_key: str
    zone: str
    status: Status
    code: str = ""
    meaning: str = ""


# ------------------------------------------------------------------------------------------------- names
def reverse_target(target: str) -> str:
    """The label sequence a DNSBL expects for ``target``, without the zone.

    IPv4: reversed octets ("192.0.2.1" -> "1.2.0.192"). IPv6: 32 reversed nibbles (RFC 5782). Anything
    else is a domain and is used as it is (lower case, no trailing dot, IDNA A-labels).
    """
    text = target.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        domain = text.rstrip(".").lower()
        if not domain:
            raise ValueError("empty target") from None
        if not domain.isascii():
            domain = dns.name.from_unicode(domain).to_text(omit_final_dot=True)
        return domain
    if address.version == 4:
        return ".".join(reversed(str(address).split(".")))
    return ".".join(reversed(address.exploded.replace(":", "")))


def dqs_zone(zone: str, key: str) -> str:
    """The Spamhaus DQS zone for a public Spamhaus ``zone``: "KEY.zen.dq.spamhaus.net"."""
    zone = zone.rstrip(".").lower()
    if zone not in DQS_ZONES:
        raise ValueError(f"{zone} has no Spamhaus DQS counterpart")
    return f"{key}.{DQS_ZONES[zone]}"


def query_name(target: str, zone: str, *, dqs_key: str | None = None) -> str:
    """The DNS name to look up for ``target`` in ``zone`` (with a DQS key, the Spamhaus DQS zone)."""
    zone = zone.strip().rstrip(".").lower()
    if dqs_key and zone in DQS_ZONES:
        zone = dqs_zone(zone, dqs_key)
    return f"{reverse_target(target)}.{zone}"


# ------------------------------------------------------------------------------------------------- verdicts
def _as_blocklist(entry: Blocklist | Mapping[str, Any]) -> Blocklist:
    return entry if isinstance(entry, Blocklist) else blocklist_from_dict(dict(entry))


def _address_key(code: str) -> tuple[int, int | str]:
    try:
        return (0, int(ipaddress.ip_address(code)))
    except ValueError:
        return (1, code)


def _one_answer(entry: Blocklist, code: str) -> tuple[str, str]:
    """(kind, meaning) for one A record, kind in listed | error | good | reputation."""
    if code in entry.error_codes:
        return "error", entry.error_codes[code]
    try:
        address = ipaddress.IPv4Address(code)
    except ValueError:
        return "error", f"answer {code!r} is not an IPv4 address"
    for cidr in entry.error_ranges:
        if address in ipaddress.IPv4Network(cidr, strict=False):
            return "error", SPAMHAUS_RANGE_ERROR.format(code=code) if cidr == SPAMHAUS_ERROR_RANGE else (
                f"error code {code} (the list reserves {cidr} for errors)"
            )
    if entry.reputation:
        # A grade, not a verdict on listing (Mailspike rep: 127.0.0.10 worst ... .20 best).
        known = entry.good_codes.get(code) or entry.codes.get(code)
        return "reputation", known or f"reputation grade {code}"
    if code in entry.codes:
        return "listed", entry.codes[code]
    if code in entry.good_codes:
        return "good", entry.good_codes[code]
    if not address.is_loopback:
        # RFC 5782 answers live in 127.0.0.0/8; anything else is a resolver (or captive portal) that
        # rewrites NXDOMAIN to its own address. Calling that "listed" would flag every target.
        return "error", MEANING_NOT_LOOPBACK.format(code=code)
    if entry.bitmask:
        octets = address.packed
        if octets[:3] == b"\x7f\x00\x00":
            value = octets[3]
            meanings = [meaning for bit, meaning in sorted(entry.bitmask.items()) if value & bit]
            unknown = value & ~sum(entry.bitmask)
            if meanings:
                if unknown:
                    meanings.append(f"unknown bits {unknown}")
                return "listed", ", ".join(meanings)
    return "listed", f"listed (unknown code {code})"


def classify(
    list_entry: Blocklist | Mapping[str, Any],
    answers: Sequence[str],
    *,
    target: str = "",
    zone: str | None = None,
) -> Result:
    """The verdict for the A records a list returned (empty: NXDOMAIN or no A record, i.e. clean).

    Several records (ZEN answers .2 and .4 for an IP on both SBL and XBL) give one result whose code is
    the comma-joined records and whose meaning joins theirs with "; ". An error code wins over listings:
    a list that says "I refuse to answer" has not given a verdict.
    """
    entry = _as_blocklist(list_entry)
    zone = entry.zone if zone is None else zone
    if not answers:
        return Result(target, entry.key, zone, "clean", "", MEANING_CLEAN)
    by_kind: dict[str, list[tuple[str, str]]] = {"error": [], "listed": [], "good": [], "reputation": []}
    for code in sorted(set(answers), key=_address_key):
        kind, meaning = _one_answer(entry, code)
        by_kind[kind].append((code, meaning))
    for kind, status in (
        ("error", "error"),
        ("listed", "listed"),
        ("reputation", "reputation"),
        ("good", "clean"),
    ):
        found = by_kind[kind]
        if found:
            code = ",".join(code for code, _ in found)
            meaning = "; ".join(meaning for _, meaning in found)
            return Result(target, entry.key, zone, status, code, meaning)  # type: ignore[arg-type]
    raise AssertionError("unreachable")


def _error(target: str, entry: Blocklist, zone: str, meaning: str) -> Result:
    return Result(target, entry.key, zone, "error", "", meaning)


# ------------------------------------------------------------------------------------------------- transport
class _Pending:
    __slots__ = ("future", "handle", "question")

    def __init__(self, future: asyncio.Future, question: bytes) -> None:
        self.future = future
        self.question = question
        self.handle: asyncio.TimerHandle | None = None


class _UdpChannel(asyncio.DatagramProtocol):
    """One connected UDP socket to one nameserver, shared by every query in flight to it."""

    def __init__(self) -> None:
        self.pending: dict[int, _Pending] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        # The socket is connected, so the kernel already dropped datagrams from other addresses.
        if len(data) < 12 or not data[2] & 0x80:  # too short, or not a response (QR clear)
            return
        pending = self.pending.get((data[0] << 8) | data[1])
        if pending is None:
            return  # a late reply to a query that timed out and was retried under another id, or a stray
        question = pending.question
        # The question as echoed must be ours (RFC 5452): same name (any case), type and class.
        if data[12 : 12 + len(question)].lower() != question or data[4:6] != b"\x00\x01":
            return
        del self.pending[(data[0] << 8) | data[1]]
        if pending.handle is not None:
            pending.handle.cancel()
        if not pending.future.done():
            pending.future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable) cannot be tied to one query; they surface as timeouts.
        pass

    def new_id(self) -> int:
        pending = self.pending
        while True:
            # Unpredictable ids (with the kernel's random source port) make forged answers, say an
            # NXDOMAIN hiding a listing, hard to inject off-path.
            qid = secrets.randbits(16)
            if qid not in pending:
                return qid

    def expire(self, qid: int) -> None:
        pending = self.pending.pop(qid, None)
        if pending is not None and not pending.future.done():
            pending.future.set_result(None)


async def _open_channel(host: str, port: int) -> tuple[_UdpChannel, asyncio.DatagramTransport]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        # Hundreds of replies can arrive between two turns of the event loop; a small receive buffer
        # would drop some and turn them into timeouts. The kernel caps the size, which is fine.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.setblocking(False)
        sock.connect((host, port))
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(_UdpChannel, sock=sock)
    except BaseException:
        sock.close()
        raise
    return protocol, transport


async def _tcp_exchange(host: str, port: int, wire: bytes, question: bytes, timeout: float) -> bytes:
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                data = await reader.readexactly(length)
                if data[:2] == wire[:2] and data[12 : 12 + len(question)].lower() == question:
                    return data
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return await asyncio.wait_for(exchange(), timeout)


class _Sweeper:
    def __init__(self, servers: list[tuple[str, int]], timeout: float) -> None:
        self.servers = servers
        self.timeout = timeout
        self.channels: list[tuple[_UdpChannel, asyncio.DatagramTransport]] = []

    async def open(self) -> None:
        for host, port in self.servers:
            self.channels.append(await _open_channel(host, port))

    def close(self) -> None:
        for channel, transport in self.channels:
            for pending in channel.pending.values():
                if pending.handle is not None:
                    pending.handle.cancel()
            channel.pending.clear()
            transport.close()

    async def lookup(self, qname: str) -> tuple[list[str], str]:
        """(A records, "") or ([], error meaning) for one query name."""
        try:
            question = _question_wire(qname)
        except ValueError as exc:
            return [], f"cannot query {qname!r}: {exc}"
        # RD set, one question, no EDNS: byte for byte what dnspython's stub resolver sends (minus the id).
        body = _QUERY_HEADER + question
        loop = asyncio.get_running_loop()
        error = ""
        attempts = 2  # one retry, as a stub resolver does
        for attempt in range(attempts):
            index = attempt % len(self.channels)
            channel, transport = self.channels[index]
            qid = channel.new_id()
            future = loop.create_future()
            pending = _Pending(future, question)
            channel.pending[qid] = pending
            packet = qid.to_bytes(2, "big") + body
            transport.sendto(packet)
            pending.handle = loop.call_later(self.timeout, channel.expire, qid)
            data = await future
            if data is None:
                error = MEANING_TIMEOUT.format(timeout=self.timeout)
                continue
            if data[2] & 0x02:  # TC: the answer did not fit in UDP, ask again over TCP
                host, port = self.servers[index]
                try:
                    data = await _tcp_exchange(host, port, packet, question, self.timeout)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, struct.error) as exc:
                    error = MEANING_TCP_FAILED.format(reason=type(exc).__name__)
                    continue
            rcode = data[3] & 0x0F
            if data[10:12] != b"\x00\x00" or (rcode == dns.rcode.NOERROR and data[6:8] != b"\x00\x00"):
                # Records to read, or an OPT record that could extend the rcode: let dnspython parse it.
                # (Most DNSBL answers are NXDOMAIN with nothing but the header and question, where the
                # header alone is the whole answer, so full parsing is only paid for listings.)
                try:
                    reply = dns.message.from_wire(data)
                except dns.exception.DNSException as exc:
                    error = f"unparseable answer from the resolver ({type(exc).__name__})"
                    continue
                rcode = reply.rcode()
                if rcode == dns.rcode.NOERROR:
                    return [
                        rdata.address
                        for rrset in reply.answer
                        if rrset.rdtype == dns.rdatatype.A and rrset.rdclass == dns.rdataclass.IN
                        for rdata in rrset
                    ], ""
            if rcode in (dns.rcode.NXDOMAIN, dns.rcode.NOERROR):
                return [], ""  # not listed (NXDOMAIN), or a name without A records (NODATA)
            if rcode == dns.rcode.SERVFAIL:
                error = MEANING_SERVFAIL
            elif rcode == dns.rcode.REFUSED:
                error = MEANING_REFUSED
            else:
                error = MEANING_RCODE.format(rcode=dns.rcode.to_text(rcode))
            if len(self.channels) == 1:
                # The same server will say the same thing again at once; only a timeout is worth
                # repeating to it. With several servers the retry goes to the next one.
                break
        return [], error


_QUERY_HEADER = struct.pack("!HHHHH", dns.flags.RD, 1, 0, 0, 0)
_QUESTION_TAIL = struct.pack("!HH", dns.rdatatype.A, dns.rdataclass.IN)


def _question_wire(qname: str) -> bytes:
    """The question section (name, type A, class IN) in wire form, lower case.

    Encoded by hand because dns.name costs tens of microseconds per name, a large share of a sweep's CPU.
    The names are ours (reversed IPs, validated domains, catalogue zones); anything unusual (escapes,
    non-ASCII) still goes through dns.name, which also enforces the limits.
    """
    text = qname.rstrip(".").lower()
    if "\\" in text or not text.isascii():
        return dns.name.from_text(text).to_wire() + _QUESTION_TAIL  # type: ignore[operator]
    labels = text.encode("ascii").split(b".")
    wire = bytearray()
    for label in labels:
        if not 0 < len(label) < 64:
            raise ValueError("empty label or label longer than 63 bytes")
        wire.append(len(label))
        wire += label
    wire.append(0)
    if len(wire) > 255:
        raise ValueError("name longer than 255 bytes")
    return bytes(wire) + _QUESTION_TAIL


def _pairs(
    targets: Iterable[tuple[str, str]], lists: Sequence[Blocklist], dqs_key: str | None
) -> list[tuple[str, Blocklist, str, str]]:
    """(target, list, zone, query name) for each target and each list of the same kind, in order."""
    pairs = []
    for target, kind in targets:
        for entry in lists:
            if entry.kind != kind:
                continue
            zone = entry.zone_for(dqs_key)
            pairs.append((target, entry, zone, query_name(target, zone)))
    return pairs


async def sweep(
    targets: Sequence[tuple[str, str]],
    lists: Sequence[Blocklist | Mapping[str, Any]],
    *,
    nameservers: str | list[str] | list[tuple[str, int]],
    timeout: float = 2.0,
    concurrency: int = 200,
    dqs_key: str | None = None,
) -> list[Result]:
    """Look every (target, kind) up in every list of that kind; one Result per pair, in input order.

    ``kind`` is "ip" or "domain"; IP lists are only asked about IPs and domain lists about domains.
    ``timeout`` is per attempt (one retry, so a silent list costs at most twice that). At most
    ``concurrency`` queries are in flight at once. With ``dqs_key``, lists that support Spamhaus DQS are
    queried at KEY.<zone>.dq.spamhaus.net instead of the public zone.
    """
    entries = [_as_blocklist(entry) for entry in lists]
    pairs = _pairs(targets, entries, dqs_key)
    if not pairs:
        return []
    if isinstance(nameservers, list) and nameservers and isinstance(nameservers[0], tuple):
        servers = [(str(host), int(port)) for host, port in nameservers]
    else:
        servers = parse_nameservers(nameservers)  # type: ignore[arg-type]
    # Each distinct name is asked once, however many times it appears.
    names = list(dict.fromkeys(qname for _, _, _, qname in pairs))
    outcomes: dict[str, tuple[list[str], str]] = {}
    sweeper = _Sweeper(servers, timeout)
    await sweeper.open()
    try:
        queue = iter(names)

        # A fixed pool of workers pulling from one iterator bounds the queries in flight without a
        # task and a semaphore acquisition per query.
        async def worker() -> None:
            for qname in queue:
                outcomes[qname] = await sweeper.lookup(qname)

        await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(names))))))
    finally:
        sweeper.close()
    results = []
    for target, entry, zone, qname in pairs:
        answers, error = outcomes[qname]
        if error:
            results.append(_error(target, entry, zone, error))
        else:
            results.append(classify(entry, answers, target=target, zone=zone))
    return results


def _blocking[**P, R](coroutine: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """The coroutine function for synchronous callers: the same arguments, run to completion."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(coroutine(*args, **kwargs))

    return run


# ``sweep`` for synchronous callers (management commands, Celery tasks).
sweep_blocking = _blocking(sweep)
