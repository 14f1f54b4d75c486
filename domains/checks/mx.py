"""Return-path MX check: bounces (DSNs) must be able to come back to the PMTA host.

The return-path (envelope sender) domain is where remote servers send asynchronous bounces; without a
working MX those bounces are lost and addresses that bounce keep getting mail, which hurts reputation.
"""

from __future__ import annotations

from typing import Final

import dns.resolver

from domains.checks.result import (
    INVALID,
    MISSING,
    OK,
    WARNING,
    CheckResult,
    dns_guarded,
    fqdn,
    normalise_name,
    query,
)
from domains.dkim_keys import DEFAULT_TTL

CHECK: Final = "mx"


@dns_guarded(CHECK)
def check_mx(
    return_path_domain: str, *, resolver: dns.resolver.Resolver, expected_hosts: list[str] | None = None
) -> CheckResult:
    """Check that ``return_path_domain`` has MX records, ideally pointing at one of ``expected_hosts``."""
    wanted = [normalise_name(host) for host in expected_hosts or []]
    expected = _proposal(return_path_domain, wanted)
    lookup = query(resolver, return_path_domain, "MX")
    mx = sorted((record.preference, normalise_name(str(record.exchange))) for record in lookup.records)
    details: dict[str, object] = {"mx": [f"{preference} {host}" for preference, host in mx]}
    if not mx:
        where = "the domain does not exist" if lookup.nxdomain else "no MX records"
        explanation = f"{where}: bounces to {return_path_domain} cannot reach the PMTA host"
        return CheckResult(CHECK, MISSING, explanation, expected, details)
    hosts = [host for _, host in mx]
    if "" in hosts:
        # RFC 7505: "0 ." says the domain accepts no mail at all, so every bounce is refused.
        explanation = f"null MX (RFC 7505): {return_path_domain} accepts no mail, so bounces are lost"
        return CheckResult(CHECK, INVALID, explanation, expected, details)
    unresolved = _unresolved(resolver, hosts)
    details["unresolved_hosts"] = unresolved
    if len(unresolved) == len(hosts):
        explanation = f"no MX host of {return_path_domain} has an address: {', '.join(unresolved)}"
        return CheckResult(CHECK, INVALID, explanation, expected, details)
    return _judge_hosts(return_path_domain, hosts, wanted, unresolved, expected, details)


def _judge_hosts(
    domain: str,
    hosts: list[str],
    wanted: list[str],
    unresolved: list[str],
    expected: str,
    details: dict[str, object],
) -> CheckResult:
    messages: list[str] = []
    status = OK
    if wanted and not set(wanted) & set(hosts):
        status = WARNING
        messages.append(
            f"MX points at {', '.join(hosts)}, not at {', '.join(wanted)}: bounces may not reach PMTA"
        )
    if unresolved:
        status = WARNING
        messages.append(f"MX hosts without an address: {', '.join(unresolved)}")
    if status == OK:
        return CheckResult(CHECK, OK, f"{domain} receives bounces via {', '.join(hosts)}", "", details)
    return CheckResult(CHECK, status, "; ".join(messages), expected, details)


def _unresolved(resolver: dns.resolver.Resolver, hosts: list[str]) -> list[str]:
    """MX hosts with neither an A nor an AAAA record (mail to them can never be delivered)."""
    return [
        host for host in hosts if query(resolver, host, "A").empty and query(resolver, host, "AAAA").empty
    ]


def _proposal(domain: str, wanted: list[str]) -> str:
    if not wanted:
        return ""
    return f"{fqdn(domain)} {DEFAULT_TTL} IN MX 10 {fqdn(wanted[0])}"
