"""A small authoritative DNS server on 127.0.0.1 for tests and benchmarks.

Anything in Email Engine that resolves (DNS checks, rDNS, blocklist sweeps) is tested against this server
instead of a mock: the code under test speaks real DNS over real UDP/TCP sockets, so truncation, timeouts,
SERVFAIL and NXDOMAIN-vs-NODATA behave exactly as they do in production.

    with LocalDNSServer({"example.com": {"A": "192.0.2.1", "TXT": "v=spf1 -all"}}) as server:
        resolver = make_resolver(server.nameserver)
        server.add("mail.example.com", "MX", "10 mx.example.com.")
        server.set_behaviour("slow.example.com", "timeout")

Semantics (those of a real authoritative server):
- a name that is not in the data -> NXDOMAIN; a name with other types only -> NOERROR with no answer (NODATA);
  an empty non-terminal (a name that only exists because a name below it does) is NODATA too;
- names are case-insensitive and the question is echoed as the client sent it;
- a CNAME answers every type and is chased inside the data (DKIM delegations use CNAMEs);
- answers that do not fit in 512 bytes over UDP (or the client's EDNS payload size) come back with TC set
  and no records, so clients retry over TCP, where the full answer is returned;
- ``set_behaviour(name, "timeout")`` drops the query on the floor, "servfail"/"refused" answer that rcode.
  A name given as ``"*.zone"`` applies the behaviour to the zone and every name below it.

Speed matters because a benchmark sends tens of thousands of queries through it while sharing the GIL with
the client under test: every answer is cached as wire bytes keyed by the query without its id, so a repeated
question costs one dict lookup and two bytes slices.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

__all__ = ["BEHAVIOURS", "LocalDNSServer", "dns_server"]

BEHAVIOURS = ("timeout", "servfail", "refused")

# Marker stored in the answer cache for queries that must never be answered ("timeout" behaviour).
_DROP = b""
# The response caches hold at most this many distinct questions; past that they start again (a benchmark
# with many distinct names must not grow memory without bound).
_CACHE_LIMIT = 200_000
_MAX_CNAME_CHAIN = 8


def _to_name(name: str | dns.name.Name) -> dns.name.Name:
    if isinstance(name, dns.name.Name):
        return name if name.is_absolute() else name.concatenate(dns.name.root)
    # from_text() with the default origin (root) makes "example.com" and "example.com." the same name.
    return dns.name.from_text(name)


def _to_rdtype(rdtype: str | int) -> dns.rdatatype.RdataType:
    if isinstance(rdtype, str):
        return dns.rdatatype.from_text(rdtype.upper())
    return dns.rdatatype.RdataType.make(rdtype)


def _split_txt(value: str | bytes) -> list[bytes]:
    raw = value.encode() if isinstance(value, str) else value
    # A TXT character-string holds at most 255 bytes; longer values (SPF, 2048-bit DKIM keys) are published
    # as several strings that the reader concatenates. An empty value is one empty string.
    return [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]


def _make_rdata(rdtype: dns.rdatatype.RdataType, value: Any) -> dns.rdata.Rdata:
    if isinstance(value, dns.rdata.Rdata):
        return value
    if rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
        if isinstance(value, (list, tuple)):
            strings = [s.encode() if isinstance(s, str) else s for s in value]
        elif isinstance(value, str) and value.startswith('"'):
            # Already in presentation format ("part one" "part two"): let dnspython parse the strings.
            return dns.rdata.from_text(dns.rdataclass.IN, rdtype, value)
        else:
            strings = _split_txt(value)
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, rdtype, strings)
    # origin=root makes relative targets ("mx.example.com") absolute, as a zone file author would mean them.
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, str(value), origin=dns.name.root, relativize=False)


class LocalDNSServer:
    """Authoritative DNS server for tests: UDP and TCP on the same random free port of 127.0.0.1.

    ``records`` maps a name to ``{rdtype: value or [values]}``, e.g.
    ``{"example.com": {"A": ["192.0.2.1", "192.0.2.2"], "MX": "10 mx.example.com."}}``.
    """

    def __init__(self, records: Mapping[str, Mapping[str, Any]] | None = None, *, host: str = "127.0.0.1"):
        self.host = host
        self.port = 0
        self._lock = threading.Lock()
        # name -> rdtype -> RRset. dns.name.Name hashes and compares case-insensitively.
        self._data: dict[dns.name.Name, dict[int, dns.rrset.RRset]] = {}
        # Names that exist only because a descendant does (empty non-terminals): NODATA, not NXDOMAIN.
        self._ent: dict[dns.name.Name, int] = {}
        self._behaviour: dict[dns.name.Name, str] = {}
        self._subtree_behaviour: dict[dns.name.Name, str] = {}
        self._udp_cache: dict[bytes, bytes] = {}
        self._tcp_cache: dict[bytes, bytes] = {}
        self._count = 0
        self._count_lock = threading.Lock()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._tcp_conns: set[socket.socket] = set()
        self._running = False
        for name, types in (records or {}).items():
            for rdtype, values in types.items():
                # A list means several records of that type (two A records, three MX hosts...).
                for value in values if isinstance(values, list) else [values]:
                    self.add(name, rdtype, value)

    # ----------------------------------------------------------------------------------------- data
    @property
    def nameserver(self) -> str:
        """The "ip:port" string that DNS_NAMESERVERS and ``make_resolver`` accept."""
        return f"{self.host}:{self.port}"

    def add(self, name: str, rdtype: str | int, value: Any, ttl: int = 60) -> None:
        """Add one record; several calls for the same name and type build one RRset."""
        qname = _to_name(name)
        qtype = _to_rdtype(rdtype)
        rdata = _make_rdata(qtype, value)
        with self._lock:
            types = self._data.get(qname)
            if types is None:
                types = self._data[qname] = {}
                parent = qname
                while len(parent) > 1:
                    parent = parent.parent()
                    self._ent[parent] = self._ent.get(parent, 0) + 1
            rrset = types.get(qtype)
            if rrset is None:
                rrset = types[qtype] = dns.rrset.RRset(qname, dns.rdataclass.IN, qtype)
            rrset.add(rdata, ttl)
            self._invalidate()

    def remove(self, name: str, rdtype: str | int | None = None) -> None:
        """Remove a name (or one of its types)."""
        qname = _to_name(name)
        with self._lock:
            types = self._data.get(qname)
            if types is None:
                return
            if rdtype is not None:
                types.pop(_to_rdtype(rdtype), None)
            if rdtype is None or not types:
                del self._data[qname]
                parent = qname
                while len(parent) > 1:
                    parent = parent.parent()
                    left = self._ent.get(parent, 0) - 1
                    if left > 0:
                        self._ent[parent] = left
                    else:
                        self._ent.pop(parent, None)
            self._invalidate()

    def set_behaviour(self, name: str, behaviour: str | None) -> None:
        """Make ``name`` time out (never answered), SERVFAIL or REFUSED; ``None`` restores normal answers.

        ``"*.zone.example"`` applies to the zone and everything below it.
        """
        if behaviour is not None and behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS} or None, not {behaviour!r}")
        subtree = name.startswith("*.")
        qname = _to_name(name[2:] if subtree else name)
        target = self._subtree_behaviour if subtree else self._behaviour
        with self._lock:
            if behaviour is None:
                target.pop(qname, None)
            else:
                target[qname] = behaviour
            self._invalidate()

    def clear(self) -> None:
        """Forget every record and behaviour (the query counter is kept; see ``reset_count``)."""
        with self._lock:
            self._data.clear()
            self._ent.clear()
            self._behaviour.clear()
            self._subtree_behaviour.clear()
            self._invalidate()

    @property
    def query_count(self) -> int:
        """Queries received over UDP and TCP since start (or the last ``reset_count``)."""
        with self._count_lock:
            return self._count

    def reset_count(self) -> None:
        with self._count_lock:
            self._count = 0

    def _invalidate(self) -> None:
        # Replace rather than clear: a server thread that captured the old dict while building an answer
        # from the old data then writes into a dict nobody reads any more.
        self._udp_cache = {}
        self._tcp_cache = {}

    # ----------------------------------------------------------------------------------------- lifecycle
    def start(self) -> LocalDNSServer:
        if self._running:
            return self
        udp, tcp = self._bind_pair()
        self._udp, self._tcp = udp, tcp
        self.port = udp.getsockname()[1]
        self._running = True
        self._threads = [
            threading.Thread(target=self._serve_udp, name=f"dns-udp-{self.port}", daemon=True),
            threading.Thread(target=self._serve_tcp, name=f"dns-tcp-{self.port}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        udp, tcp = self._udp, self._tcp
        # Wake the UDP thread blocked in recvfrom() with one datagram; closing the socket from another thread
        # does not reliably interrupt a blocking call on Linux.
        if udp is not None:
            with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
                waker.sendto(b"\0", (self.host, self.port))
        for thread in self._threads:
            thread.join(timeout=5)
        with self._lock:
            conns = list(self._tcp_conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for sock in (udp, tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None
        self._threads = []

    def __enter__(self) -> LocalDNSServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _bind_pair(self) -> tuple[socket.socket, socket.socket]:
        # The kernel picks a free UDP port; the same TCP port is usually free too, but not always, so retry.
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # A big receive buffer: a sweep fires hundreds of queries at once and a drop would look like a
            # timeout. The kernel caps the value at net.core.rmem_max, which is fine.
            with contextlib.suppress(OSError):
                udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
            udp.bind((self.host, 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(128)
            return udp, tcp
        raise OSError("could not find a port free for both UDP and TCP on " + self.host)

    # ----------------------------------------------------------------------------------------- serving
    def _count_one(self) -> None:
        with self._count_lock:
            self._count += 1

    def _serve_udp(self) -> None:
        sock = self._udp
        assert sock is not None
        recvfrom, sendto = sock.recvfrom, sock.sendto
        while self._running:
            try:
                data, addr = recvfrom(65535)
            except OSError:
                return
            if not self._running:
                return
            if len(data) < 12:
                continue  # not a DNS message (or our own wake-up datagram)
            self._count_one()
            key = data[2:]
            cache = self._udp_cache
            reply = cache.get(key)
            if reply is None:
                reply = self._safe_answer(data, tcp=False)
                if reply is None:
                    continue  # unparseable: a real server would drop it too
            if not reply:
                continue  # "timeout" behaviour: say nothing
            with contextlib.suppress(OSError):
                sendto(data[:2] + reply, addr)

    def _serve_tcp(self) -> None:
        listener = self._tcp
        assert listener is not None
        while self._running:
            # poll with a short timeout so stop() never waits on accept().
            readable, _, _ = select.select([listener], [], [], 0.1)
            if not readable:
                continue
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._tcp_conns.add(conn)
            threading.Thread(target=self._serve_tcp_conn, args=(conn,), daemon=True).start()

    def _serve_tcp_conn(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            while self._running:
                header = _recv_exact(conn, 2)
                if header is None:
                    return
                (length,) = struct.unpack("!H", header)
                data = _recv_exact(conn, length)
                if data is None or len(data) < 12:
                    return
                self._count_one()
                reply = self._tcp_cache.get(data[2:])
                if reply is None:
                    reply = self._safe_answer(data, tcp=True)
                if not reply:
                    continue  # "timeout": keep the connection open and say nothing
                wire = data[:2] + reply
                conn.sendall(struct.pack("!H", len(wire)) + wire)
        except OSError:
            return
        finally:
            with self._lock:
                self._tcp_conns.discard(conn)
            conn.close()

    def _safe_answer(self, data: bytes, *, tcp: bool) -> bytes | None:
        # A bug or odd test data must not kill the serving thread (every later test would time out):
        # answer SERVFAIL, as a real server does on an internal error.
        try:
            return self._answer(data, tcp=tcp)
        except Exception:
            flags = (struct.unpack("!H", data[2:4])[0] & 0x7900) | dns.flags.QR | dns.rcode.SERVFAIL
            return struct.pack("!HHHHH", flags, 0, 0, 0, 0)

    def _answer(self, data: bytes, *, tcp: bool) -> bytes | None:
        """Build the reply (without its 2-byte id) for one query, cache it, return it; None = unparseable."""
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            if len(data) >= 12:
                # Echo the id and opcode with FORMERR, as a real server does for garbage it can frame.
                flags = (struct.unpack("!H", data[2:4])[0] & 0x7800) | dns.flags.QR | dns.rcode.FORMERR
                return struct.pack("!HHHHH", flags, 0, 0, 0, 0)
            return None
        with self._lock:
            cache = self._tcp_cache if tcp else self._udp_cache
            response = self._respond(query)
        if response is None:
            reply = _DROP
        else:
            # Without EDNS a UDP answer may not exceed 512 bytes; with EDNS, the client's payload size.
            udp_limit = max(512, query.payload) if query.edns >= 0 else 512
            max_size = 65535 if tcp else udp_limit
            try:
                wire = response.to_wire(max_size=max_size)
            except dns.exception.TooBig:
                # Truncate to the header and question only, with TC, so the client retries over TCP.
                truncated = dns.message.make_response(query)
                truncated.flags |= dns.flags.TC | dns.flags.AA
                wire = truncated.to_wire()
            reply = wire[2:]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[data[2:]] = reply
        return reply

    def _behaviour_for(self, qname: dns.name.Name) -> str | None:
        behaviour = self._behaviour.get(qname)
        if behaviour is None and self._subtree_behaviour:
            name = qname
            while True:
                behaviour = self._subtree_behaviour.get(name)
                if behaviour is not None or len(name) <= 1:
                    break
                name = name.parent()
        return behaviour

    def _respond(self, query: dns.message.Message) -> dns.message.Message | None:
        """The response message for ``query`` (caller holds the lock); None means do not answer."""
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        behaviour = self._behaviour_for(qname)
        if behaviour == "timeout":
            return None
        if behaviour == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        if behaviour == "refused":
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        name = qname
        for _ in range(_MAX_CNAME_CHAIN):
            types = self._data.get(name)
            if types is None:
                if name not in self._ent:
                    # NXDOMAIN is about the last name in a CNAME chain, as RFC 6604 says.
                    response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            if qtype == dns.rdatatype.ANY:
                response.answer.extend([_renamed(rrset, qname) for rrset in types.values()])
                return response
            rrset = types.get(qtype)
            if rrset is not None:
                response.answer.append(_renamed(rrset, qname))
                return response
            cname = types.get(dns.rdatatype.CNAME)
            if cname is None:
                return response  # NODATA
            response.answer.append(_renamed(cname, qname))
            name = cname[0].target  # type: ignore[attr-defined]
            qname = name
        response.set_rcode(dns.rcode.SERVFAIL)  # CNAME loop in the test data
        return response


def _renamed(rrset: dns.rrset.RRset, asked: dns.name.Name) -> dns.rrset.RRset:
    # Echo the owner name with the case the client used (0x20-style clients compare it).
    if asked.to_text() == rrset.name.to_text():
        return rrset
    copy = dns.rrset.RRset(asked, rrset.rdclass, rrset.rdtype)
    copy.update(rrset)
    return copy


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


try:
    import pytest
except ImportError:  # the module also serves benchmarks, which do not need pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def dns_server() -> Iterator[LocalDNSServer]:
        """A started LocalDNSServer, stopped after the test. Import it into a conftest to use it."""
        server = LocalDNSServer()
        server.start()
        try:
            yield server
        finally:
            server.stop()
