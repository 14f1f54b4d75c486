"""What every DNS check returns, and the DNS plumbing the checks share.

The shared lookup lives here (not in the package ``__init__``) so the check modules can import it without
an import cycle through the package.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from domains.dkim_keys import DEFAULT_TTL, quote_txt, split_txt

# dkim_pending (a key being rotated in) and ptr (pool IPs' rDNS) are produced by domains.services.
CheckName = Literal["spf", "dkim", "dkim_pending", "dmarc", "mx", "ptr"]
Status = Literal["ok", "warning", "missing", "invalid", "unknown"]

OK: Final = "ok"
WARNING: Final = "warning"
MISSING: Final = "missing"
INVALID: Final = "invalid"
UNKNOWN: Final = "unknown"
STATUSES: Final = (OK, WARNING, MISSING, INVALID, UNKNOWN)
CHECK_NAMES: Final = ("spf", "dkim", "dkim_pending", "dmarc", "mx", "ptr")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check of one domain.

    expected_record is the record the operator should publish: a zone-file line
    (``name TTL IN TYPE value``), or "" when there is nothing to change or nothing we can propose.
    """

    # Plain str (domains.models.CheckName / CheckStatus members are str too), checked on creation.
    check: str
    status: str
    explanation: str
    expected_record: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")
        if self.check not in CHECK_NAMES:
            raise ValueError(f"unknown check {self.check!r}")

    @property
    def is_ok(self) -> bool:
        return self.status == OK


class DNSUnavailable(Exception):
    """The resolver gave no usable answer (timeout, SERVFAIL, REFUSED): we know nothing about the record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadName(ValueError):
    """A name that cannot be a DNS name (empty label, label over 63 bytes, ...)."""


@dataclass(frozen=True)
class Lookup:
    """An authoritative answer: either records, no records (NODATA), or no such name (NXDOMAIN)."""

    name: str
    rdtype: str
    records: tuple[Any, ...]
    nxdomain: bool = False

    @property
    def empty(self) -> bool:
        return not self.records


def query(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> Lookup:
    """Resolve name/rdtype; NXDOMAIN and NODATA are answers, everything else raises DNSUnavailable."""
    qname = _absolute_name(name)
    try:
        answer = resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Lookup(name=name, rdtype=rdtype, records=(), nxdomain=True)
    except dns.resolver.YXDOMAIN:
        # A DNAME substitution produced an overlong name: for us that name does not exist.
        return Lookup(name=name, rdtype=rdtype, records=(), nxdomain=True)
    except dns.exception.Timeout as exc:
        raise DNSUnavailable("timeout") from exc
    except dns.resolver.NoNameservers as exc:
        raise DNSUnavailable(_failure_reason(exc)) from exc
    records = tuple(answer.rrset) if answer.rrset is not None else ()
    return Lookup(name=name, rdtype=rdtype, records=records)


def txt_values(lookup: Lookup) -> list[str]:
    """Each TXT record as one string: a record's character-strings are concatenated (RFC 7208 3.3)."""
    return [b"".join(record.strings).decode("utf-8", errors="replace") for record in lookup.records]


def unknown_result(check: CheckName, reason: str, details: dict[str, Any] | None = None) -> CheckResult:
    return CheckResult(
        check=check,
        status=UNKNOWN,
        explanation=f"DNS did not answer ({reason}) - retry",
        details={"dns_error": reason, **(details or {})},
    )


def dns_guarded[**P](check: CheckName) -> Callable[[Callable[P, CheckResult]], Callable[P, CheckResult]]:
    """Turn DNS failures into an "unknown" result and unusable names into "invalid".

    A failed lookup must never look like a missing record: the operator would "fix" DNS that is fine.
    """

    def decorate(func: Callable[P, CheckResult]) -> Callable[P, CheckResult]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> CheckResult:
            try:
                return func(*args, **kwargs)
            except DNSUnavailable as exc:
                return unknown_result(check, exc.reason)
            except BadName as exc:
                return CheckResult(check=check, status=INVALID, explanation=str(exc))

        return wrapper

    return decorate


def txt_record_line(name: str, value: str, ttl: int = DEFAULT_TTL) -> str:
    """A zone-file TXT line, with values over 255 bytes split into several quoted strings."""
    return f"{fqdn(name)} {ttl} IN TXT {quote_txt(split_txt(value))}"


def fqdn(name: str) -> str:
    """Zone-file form with the trailing dot, so pasting it does not append the zone origin."""
    return name.rstrip(".") + "."


def normalise_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _absolute_name(name: str) -> dns.name.Name:
    try:
        return dns.name.from_text(name)
    except (dns.exception.SyntaxError, dns.name.NameTooLong) as exc:
        raise BadName(f"{name!r} is not a valid DNS name") from exc


def _failure_reason(exc: dns.resolver.NoNameservers) -> str:
    """Name the rcode the servers gave (SERVFAIL, REFUSED...) so the operator knows what went wrong."""
    reasons: list[str] = []
    for error in exc.kwargs.get("errors", []):
        outcome = error[3] if len(error) > 3 else None
        response = error[4] if len(error) > 4 else None
        if isinstance(response, dns.message.Message):
            text = dns.rcode.to_text(response.rcode())
        elif isinstance(outcome, str):
            text = outcome
        else:
            text = "no usable answer"
        if text not in reasons:
            reasons.append(text)
    return ", ".join(reasons) or "no nameserver answered"
