"""SPF check (RFC 7208): one record, within the lookup limits, authorising every sending IP.

We do not evaluate SPF for one connecting IP the way a receiver does. Instead the record is expanded once,
following include/redirect/a/mx, which gives the worst-case lookup count (what receivers enforce) and an
in-memory tree that answers "does check_host() pass for this IP?" for every pool IP without more DNS.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Final

import dns.resolver

from domains.checks.result import (
    INVALID,
    MISSING,
    OK,
    WARNING,
    CheckResult,
    Lookup,
    dns_guarded,
    query,
    txt_record_line,
    txt_values,
)

CHECK: Final = "spf"
LOOKUP_LIMIT = 10  # RFC 7208 4.6.4: include, a, mx, ptr, exists, redirect
VOID_LOOKUP_LIMIT = 2  # RFC 7208 4.6.4: lookups answering NXDOMAIN or no records
MX_HOST_LIMIT = 10  # RFC 7208 4.6.4: an mx mechanism may not name more than 10 hosts
# Past this we stop expanding: the record is already invalid, and an include loop would never end.
EXPANSION_CAP = 40

type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

QUALIFIER_RESULT = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})

_MECHANISM_RE = re.compile(r"^([+\-~?]?)(all|include|a|mx|ptr|ip4|ip6|exists)([:/].*)?$", re.IGNORECASE)
_MODIFIER_RE = re.compile(r"^([a-z][a-z0-9_.\-]*)=(.*)$", re.IGNORECASE)
_DUAL_CIDR_RE = re.compile(r"^(?::([^/]+))?(?:/(\d+))?(?://(\d+))?$")


class SPFSyntaxError(ValueError):
    pass


@dataclass
class Term:
    """One directive (qualifier + mechanism) or modifier of a record, filled in while expanding."""

    raw: str
    name: str  # mechanism name, or modifier name for modifiers
    qualifier: str = "+"
    value: str = ""  # domain-spec, or the network for ip4/ip6
    is_modifier: bool = False
    cidr4: int = 32
    cidr6: int = 128
    # Filled by the expansion:
    networks: list[IPNetwork] = field(default_factory=list)
    child: Record | None = None
    matches_everything: bool = False


@dataclass
class Record:
    domain: str
    text: str
    terms: list[Term]
    redirect: Record | None = None

    @property
    def mechanisms(self) -> list[Term]:
        return [term for term in self.terms if not term.is_modifier]

    def modifier(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.is_modifier and t.name == name), None)

    @property
    def all_term(self) -> Term | None:
        return next((t for t in self.mechanisms if t.name == "all"), None)


@dataclass
class Expansion:
    """What walking the record tree found; errors make the record invalid, warnings are advice."""

    resolver: dns.resolver.Resolver
    lookups: int = 0
    void_lookups: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        return self.lookups > EXPANSION_CAP


# ----------------------------------------------------------------------------------------- parsing


def is_spf(value: str) -> bool:
    # "v=spf1" must be the whole first term: "v=spf10" is not SPF (RFC 7208 4.5).
    return value.strip().lower() == "v=spf1" or value.strip().lower().startswith("v=spf1 ")


def parse_record(domain: str, text: str) -> Record:
    tokens = text.split()
    terms = [_parse_term(token) for token in tokens[1:]]
    for name in ("redirect", "exp"):
        if sum(1 for t in terms if t.is_modifier and t.name == name) > 1:
            raise SPFSyntaxError(f"more than one {name}= modifier")
    return Record(domain=domain, text=" ".join(tokens), terms=terms)


def _parse_term(token: str) -> Term:
    match = _MECHANISM_RE.match(token)
    if match:
        qualifier, name, rest = match.group(1) or "+", match.group(2).lower(), match.group(3) or ""
        term = Term(raw=token, name=name, qualifier=qualifier)
        _parse_mechanism_argument(term, rest)
        return term
    match = _MODIFIER_RE.match(token)
    if match:
        name, value = match.group(1).lower(), match.group(2)
        if name in ("redirect", "exp") and not value:
            raise SPFSyntaxError(f"{name}= needs a domain")
        return Term(raw=token, name=name, value=value, is_modifier=True)
    raise SPFSyntaxError(f"unknown SPF term {token!r}")


def _parse_mechanism_argument(term: Term, rest: str) -> None:
    if term.name == "all":
        if rest:
            raise SPFSyntaxError(f"'all' takes no argument: {term.raw!r}")
    elif term.name in ("include", "exists"):
        if not rest.startswith(":") or len(rest) < 2:
            raise SPFSyntaxError(f"{term.name} needs a domain: {term.raw!r}")
        term.value = rest[1:]
    elif term.name in ("ip4", "ip6"):
        term.networks = [_parse_network(term, rest)]
    elif term.name == "ptr":
        term.value = rest[1:] if rest.startswith(":") else ""
    else:  # a, mx: optional domain, optional IPv4 and IPv6 prefix lengths
        match = _DUAL_CIDR_RE.match(rest)
        if not match:
            raise SPFSyntaxError(f"bad argument in {term.raw!r}")
        term.value = match.group(1) or ""
        term.cidr4 = _prefix(term, match.group(2), 32)
        term.cidr6 = _prefix(term, match.group(3), 128)


def _parse_network(term: Term, rest: str) -> IPNetwork:
    if not rest.startswith(":"):
        raise SPFSyntaxError(f"{term.name} needs an address: {term.raw!r}")
    try:
        network = ipaddress.ip_network(rest[1:], strict=False)
    except ValueError as exc:
        raise SPFSyntaxError(f"bad address in {term.raw!r}") from exc
    if network.version != (4 if term.name == "ip4" else 6):
        raise SPFSyntaxError(f"wrong address family in {term.raw!r}")
    return network


def _prefix(term: Term, text: str | None, maximum: int) -> int:
    if text is None:
        return maximum
    value = int(text)
    if value > maximum:
        raise SPFSyntaxError(f"prefix length /{value} is too long in {term.raw!r}")
    return value


# ----------------------------------------------------------------------------------------- expansion


def expand(record: Record, walk: Expansion) -> None:
    """Resolve everything the record refers to, counting lookups as a receiver would (worst case)."""
    for term in record.mechanisms:
        if walk.capped:
            return
        if term.name in LOOKUP_MECHANISMS:
            walk.lookups += 1
            _expand_mechanism(record, term, walk)
    redirect = record.modifier("redirect")
    # RFC 7208 6.1: redirect is ignored when the record has an "all" mechanism.
    if redirect is not None and record.all_term is None and not walk.capped:
        walk.lookups += 1
        record.redirect = _fetch_child(redirect.value, f"redirect={redirect.value}", walk)


def _expand_mechanism(record: Record, term: Term, walk: Expansion) -> None:
    target = term.value or record.domain
    if "%" in target:
        # Macros depend on the connecting IP or sender; we cannot expand them statically.
        walk.warnings.append(f"{term.raw} uses a macro, which this check does not evaluate")
        return
    if term.name == "include":
        walk.includes.append(target)
        term.child = _fetch_child(target, f"include:{target}", walk)
    elif term.name == "a":
        term.networks = _addresses(walk, target, term)
        _note_void(walk, target, not term.networks)
    elif term.name == "mx":
        term.networks = _mx_addresses(walk, target, term)
    elif term.name == "exists":
        found = query(walk.resolver, target, "A")
        term.matches_everything = not found.empty
        _note_void(walk, target, found.empty)
    elif term.name == "ptr":
        walk.warnings.append("the ptr mechanism is deprecated and slow (RFC 7208 5.5); use ip4/ip6")


def _fetch_child(target: str, label: str, walk: Expansion) -> Record | None:
    """The SPF record an include or redirect points at; a missing one is a permanent error."""
    lookup = query(walk.resolver, target, "TXT")
    records = [value for value in txt_values(lookup) if is_spf(value)]
    if not records:
        _note_void(walk, target, True)
        reason = "does not exist" if lookup.nxdomain else "has no SPF record"
        walk.errors.append(f"{label} {reason} (receivers return permerror)")
        return None
    if len(records) > 1:
        walk.errors.append(f"{label} publishes {len(records)} SPF records")
        return None
    try:
        child = parse_record(target, records[0])
    except SPFSyntaxError as exc:
        walk.errors.append(f"{label}: {exc}")
        return None
    expand(child, walk)
    return child


def _addresses(walk: Expansion, host: str, term: Term) -> list[IPNetwork]:
    networks: list[IPNetwork] = []
    for rdtype, prefix in (("A", term.cidr4), ("AAAA", term.cidr6)):
        for record in query(walk.resolver, host, rdtype).records:
            networks.append(ipaddress.ip_network(f"{record.address}/{prefix}", strict=False))
    return networks


def _mx_addresses(walk: Expansion, target: str, term: Term) -> list[IPNetwork]:
    lookup: Lookup = query(walk.resolver, target, "MX")
    hosts = [str(r.exchange).rstrip(".") for r in lookup.records if str(r.exchange) != "."]
    _note_void(walk, target, not hosts)
    if len(hosts) > MX_HOST_LIMIT:
        walk.errors.append(f"{term.raw} names {len(hosts)} MX hosts; the limit is {MX_HOST_LIMIT}")
        return []
    # The A/AAAA lookups of the MX hosts do not count against the limit of 10 (RFC 7208 4.6.4).
    return [network for host in hosts for network in _addresses(walk, host, term)]


def _note_void(walk: Expansion, name: str, void: bool) -> None:
    if void:
        walk.void_lookups.append(name)


# ----------------------------------------------------------------------------------------- evaluation


def evaluate(record: Record, ip: IPAddress) -> str:
    """check_host() over the expanded tree: pass, fail, softfail, neutral, or permerror."""
    for term in record.mechanisms:
        if term.name == "include":
            if term.child is None:
                continue  # already reported as an error; it cannot authorise anything
            inner = evaluate(term.child, ip)
            if inner == "permerror":
                return inner
            if inner == "pass":
                return QUALIFIER_RESULT[term.qualifier]
        elif _matches(term, ip):
            return QUALIFIER_RESULT[term.qualifier]
    if record.redirect is not None:
        return evaluate(record.redirect, ip)
    return "neutral"


def _matches(term: Term, ip: IPAddress) -> bool:
    if term.name == "all" or term.matches_everything:
        return True
    return any(ip.version == network.version and ip in network for network in term.networks)


def effective_all(record: Record) -> Term | None:
    """The all term that decides unlisted senders: this record's, or the redirect target's."""
    if record.all_term is not None:
        return record.all_term
    if record.redirect is not None:
        return effective_all(record.redirect)
    return None


# ----------------------------------------------------------------------------------------- the check


@dns_guarded(CHECK)
def check_spf(domain: str, *, resolver: dns.resolver.Resolver, authorised_ips: list[str]) -> CheckResult:
    """Check the SPF record of ``domain`` and that every IP in ``authorised_ips`` passes it."""
    ips = [ipaddress.ip_address(ip) for ip in authorised_ips]
    records = [value for value in txt_values(query(resolver, domain, "TXT")) if is_spf(value)]
    if not records:
        return _missing(domain, ips)
    if len(records) > 1:
        explanation = (
            f"{len(records)} SPF records; receivers treat this as a permanent error (RFC 7208 3.2) "
            "- merge them into one"
        )
        return _unusable(domain, ips, explanation, {"records": records})
    try:
        record = parse_record(domain, records[0])
    except SPFSyntaxError as exc:
        return _unusable(domain, ips, f"SPF record does not parse: {exc}", {"record": records[0]})
    walk = Expansion(resolver=resolver)
    expand(record, walk)
    return _verdict(domain, record, walk, ips)


def suggested_record(ips: list[IPAddress]) -> str:
    return " ".join(["v=spf1", *(_ip_mechanism(ip) for ip in ips), "-all"])


def _missing(domain: str, ips: list[IPAddress]) -> CheckResult:
    if ips:
        explanation = "no SPF record; publish one listing the sending IPs"
        expected = txt_record_line(domain, suggested_record(ips))
    else:
        explanation = "no SPF record; publish one listing the sending IPs (none were given to propose one)"
        expected = ""
    return CheckResult(check=CHECK, status=MISSING, explanation=explanation, expected_record=expected)


def _unusable(domain: str, ips: list[IPAddress], explanation: str, details: dict[str, object]) -> CheckResult:
    # Receivers ignore a record they cannot use, so propose a fresh one rather than a patched copy.
    expected = txt_record_line(domain, suggested_record(ips)) if ips else ""
    return CheckResult(CHECK, INVALID, explanation, expected, details)


def _verdict(domain: str, record: Record, walk: Expansion, ips: list[IPAddress]) -> CheckResult:
    errors, warnings = list(walk.errors), list(walk.warnings)
    _judge_limits(walk, errors)
    all_term = effective_all(record)
    fix_all = _judge_all(all_term, errors, warnings)
    results = {str(ip): evaluate(record, ip) for ip in ips}
    missing_ips = [ip for ip in ips if results[str(ip)] != "pass"]
    if missing_ips:
        listed = ", ".join(str(ip) for ip in missing_ips)
        errors.append(f"SPF does not authorise {listed}")
    details = {
        "record": record.text,
        "lookups": walk.lookups,
        "lookup_limit": LOOKUP_LIMIT,
        "void_lookups": walk.void_lookups,
        "includes": walk.includes,
        "all": all_term.raw if all_term is not None else None,
        "ip_results": results,
        "missing_ips": [str(ip) for ip in missing_ips],
    }
    corrected = corrected_record(record, missing_ips, fix_all=fix_all)
    # With a redirect and no all term, nothing at the top level fixes the all term: propose no change.
    expected = txt_record_line(domain, corrected) if corrected != record.text else ""
    status = INVALID if errors else WARNING if warnings else OK
    explanation = "; ".join(errors + warnings) or (
        f"SPF record is valid ({walk.lookups} of {LOOKUP_LIMIT} DNS lookups)"
        + (" and authorises every sending IP" if ips else "")
    )
    return CheckResult(
        check=CHECK, status=status, explanation=explanation, expected_record=expected, details=details
    )


def _judge_limits(walk: Expansion, errors: list[str]) -> None:
    if walk.capped:
        errors.append(
            f"SPF needs more than {EXPANSION_CAP} DNS lookups (or includes itself); the limit is "
            f"{LOOKUP_LIMIT} (RFC 7208 4.6.4)"
        )
    elif walk.lookups > LOOKUP_LIMIT:
        errors.append(f"SPF needs {walk.lookups} DNS lookups; the limit is {LOOKUP_LIMIT} (RFC 7208 4.6.4)")
    if len(walk.void_lookups) > VOID_LOOKUP_LIMIT:
        names = ", ".join(walk.void_lookups)
        errors.append(
            f"{len(walk.void_lookups)} lookups found nothing ({names}); the limit is "
            f"{VOID_LOOKUP_LIMIT} (RFC 7208 4.6.4)"
        )


def _judge_all(all_term: Term | None, errors: list[str], warnings: list[str]) -> bool:
    """Judge the all term; returns True when the proposed record should end in -all instead."""
    if all_term is None:
        warnings.append("no 'all' term: unlisted senders get neutral; end the record with -all or ~all")
        return True
    if all_term.qualifier == "+":
        errors.append(f"'{all_term.raw}' authorises every server on the internet to send as this domain")
        return True
    if all_term.qualifier == "?":
        warnings.append("'?all' makes unlisted senders neutral; use -all or ~all")
        return True
    return False


def corrected_record(record: Record, missing: list[IPAddress], *, fix_all: bool) -> str:
    """The published record with the missing IPs added before the all term, and a safe all term.

    Only the top-level record is edited: the operator controls it, while includes may be a provider's.
    """
    tokens = [term.raw for term in record.terms]
    additions = [_ip_mechanism(ip) for ip in missing]
    position = _insert_position(record)
    tokens[position:position] = additions
    if fix_all:
        if record.all_term is not None:
            tokens[tokens.index(record.all_term.raw)] = "-all"
        elif record.redirect is None and record.modifier("redirect") is None:
            tokens.append("-all")
    return " ".join(["v=spf1", *tokens])


def _insert_position(record: Record) -> int:
    # Before "all" so the new IPs are reached; else before redirect= for readability; else at the end.
    for index, term in enumerate(record.terms):
        if term.name == "all" and not term.is_modifier:
            return index
    for index, term in enumerate(record.terms):
        if term.is_modifier and term.name == "redirect":
            return index
    return len(record.terms)


def _ip_mechanism(ip: IPAddress) -> str:
    return f"ip{ip.version}:{ip}"
