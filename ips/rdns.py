"""Reverse DNS (PTR) checks for sending IPs: forward-confirmed rDNS (pure Python, no Django).

Receivers (Gmail, Microsoft, most spam filters) want every sending IP to have a PTR record, and the name
it points to must resolve back to the same IP ("FCrDNS"). Without that, mail is deferred or lands in spam.
This module only reports; it never changes anything.

Statuses:
- ok: the PTR exists, matches ``expected_hostname`` when given, and that name's A/AAAA includes the IP;
- mismatch: the PTR exists, but it is not the expected name or its forward lookup does not include the IP;
- missing: no PTR record (NXDOMAIN or no answer);
- unknown: DNS did not answer (timeout, SERVFAIL, REFUSED). That is never reported as "missing": a flaky
  resolver must not make an operator chase a PTR record that is there.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename

__all__ = ["RdnsResult", "RdnsStatus", "check_rdns"]

RdnsStatus = Literal["ok", "mismatch", "missing", "unknown"]

_NO_ANSWER = "DNS did not answer - retry"


@dataclass(frozen=True)
class RdnsResult:
    status: RdnsStatus
    ptr: str = ""
    forward_ips: list[str] = field(default_factory=list)
    explanation: str = ""


class _DnsDidNotAnswer(Exception):
    """Timeout, SERVFAIL, REFUSED or any other failure that is not a definite 'no such record'."""


def _lookup(resolver: dns.resolver.Resolver, name: dns.name.Name | str, rdtype: str) -> list:
    """The rdatas, [] when the name or the type does not exist, _DnsDidNotAnswer otherwise."""
    try:
        return list(resolver.resolve(name, rdtype, search=False))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.YXDOMAIN as exc:  # a broken DNAME setup: the zone is misconfigured, not absent
        raise _DnsDidNotAnswer(str(exc)) from exc
    except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
        raise _DnsDidNotAnswer(str(exc)) from exc


def _hostname(name: str) -> str:
    return name.strip().rstrip(".").lower()


def check_rdns(
    ip: str,
    *,
    resolver: dns.resolver.Resolver,
    expected_hostname: str | None = None,
) -> RdnsResult:
    """Check the PTR of ``ip`` (IPv4 or IPv6) and confirm it forward; see the module docstring.

    ``resolver`` is a synchronous dnspython resolver (``core.dnsresolver.make_resolver``).
    Raises ValueError if ``ip`` is not an IP address.
    """
    address = ipaddress.ip_address(ip.strip())
    ip_text = str(address)
    try:
        ptrs = _lookup(resolver, dns.reversename.from_address(ip_text), "PTR")
    except _DnsDidNotAnswer:
        return RdnsResult("unknown", explanation=f"PTR lookup for {ip_text}: {_NO_ANSWER}")
    if not ptrs:
        return RdnsResult("missing", explanation=f"{ip_text} has no PTR record")

    names = [_hostname(rdata.target.to_text()) for rdata in ptrs]
    expected = _hostname(expected_hostname) if expected_hostname else None
    if expected is not None and expected not in names:
        shown = ", ".join(names)
        return RdnsResult(
            "mismatch",
            ptr=names[0],
            explanation=f"PTR of {ip_text} is {shown}, expected {expected}",
        )
    # With several PTRs (unusual but legal), the expected one, or else the first, is the one to confirm.
    ptr = expected if expected is not None else names[0]
    rdtype = "A" if address.version == 4 else "AAAA"
    try:
        forward = _lookup(resolver, dns.name.from_text(ptr), rdtype)
    except _DnsDidNotAnswer:
        return RdnsResult("unknown", ptr=ptr, explanation=f"{rdtype} lookup for {ptr}: {_NO_ANSWER}")
    # Compare as addresses: "2001:db8::1" and "2001:0db8:0:0::1" are the same IP.
    forward_ips = [str(ipaddress.ip_address(rdata.address)) for rdata in forward]
    if ip_text in forward_ips:
        return RdnsResult(
            "ok",
            ptr=ptr,
            forward_ips=forward_ips,
            explanation=f"{ip_text} -> {ptr} -> {ip_text} (forward-confirmed)",
        )
    if not forward_ips:
        why = f"{ptr} has no {rdtype} record"
    else:
        why = f"{ptr} resolves to {', '.join(forward_ips)}, not {ip_text}"
    return RdnsResult(
        "mismatch",
        ptr=ptr,
        forward_ips=forward_ips,
        explanation=f"PTR of {ip_text} is {ptr} but {why}",
    )
