"""DMARC check (RFC 7489): a parseable policy record, how strict it is, and whether SPF can align."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import dns.resolver

from domains.checks.dkim import TagSyntaxError, parse_tags
from domains.checks.result import (
    INVALID,
    MISSING,
    OK,
    WARNING,
    CheckResult,
    dns_guarded,
    normalise_name,
    query,
    txt_record_line,
    txt_values,
)

CHECK: Final = "dmarc"
POLICIES = ("none", "quarantine", "reject")  # in order of strictness
DEFAULT_POLICY = "quarantine"

# Two-label public suffixes common enough among our tenants' domains. A full Public Suffix List would be
# exact, but it is a large, moving data file. Caveat of the approximation: under an unlisted two-label
# suffix every domain looks like one organization, so relaxed alignment may be over-reported there.
TWO_LABEL_SUFFIXES = frozenset(
    {
        "co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "ac.uk", "gov.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au",
        "co.nz", "org.nz", "net.nz",
        "co.jp", "ne.jp", "or.jp",
        "co.za", "org.za",
        "com.br", "net.br", "org.br",
        "com.mx", "com.ar", "com.co", "com.tr", "com.cn", "com.hk", "com.sg", "com.my", "com.tw",
        "co.in", "net.in", "org.in", "firm.in",
        "co.kr", "or.kr",
        "co.il", "org.il",
        "com.pl", "net.pl",
        "co.id", "co.th", "com.ph", "com.vn", "com.ua", "com.pe", "com.ec",
    }
)  # fmt: skip

_DMARC_START_RE = re.compile(r"^\s*v\s*=\s*DMARC1\s*(;|$)", re.IGNORECASE)
_URI_RE = re.compile(r"^[a-z][a-z0-9+.\-]*:\S+$", re.IGNORECASE)


@dataclass
class Policy:
    """A parsed DMARC record; problems are reasons it is invalid."""

    record: str
    tags: dict[str, str]
    problems: list[str] = field(default_factory=list)

    def get(self, tag: str, default: str = "") -> str:
        return self.tags.get(tag, default)

    @property
    def policy(self) -> str:
        return self.get("p").lower()

    @property
    def pct(self) -> int:
        value = self.get("pct", "100")
        return int(value) if value.isdigit() else 100


def organizational_domain(domain: str) -> str:
    """The registrable domain: the last two labels, or three under a well-known two-label suffix."""
    labels = normalise_name(domain).split(".")
    keep = 3 if ".".join(labels[-2:]) in TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def spf_aligned(from_domain: str, return_path_domain: str, *, strict: bool) -> bool:
    """DMARC SPF identifier alignment (RFC 7489 3.1.2)."""
    if strict:
        return normalise_name(from_domain) == normalise_name(return_path_domain)
    return organizational_domain(from_domain) == organizational_domain(return_path_domain)


def parse_policy(record: str) -> Policy:
    try:
        tags = {name.lower(): value for name, value in parse_tags(record).items()}
    except TagSyntaxError as exc:
        return Policy(record=record, tags={}, problems=[str(exc)])
    policy = Policy(record=record, tags=tags)
    policy.problems = _problems(record, tags)
    return policy


def _problems(record: str, tags: dict[str, str]) -> list[str]:
    problems: list[str] = []
    # RFC 7489 6.4: v=DMARC1 must be the first tag, exactly so.
    if not re.match(r"^v\s*=\s*DMARC1\s*(;|$)", record.strip()):
        problems.append("the record must start with v=DMARC1")
    for tag in ("p", "sp"):
        if tag in tags and tags[tag].lower() not in POLICIES:
            problems.append(f"{tag}={tags[tag]} is not none, quarantine or reject")
    if "p" not in tags:
        problems.append("the record has no p= policy")
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag].lower() not in ("r", "s"):
            problems.append(f"{tag}={tags[tag]} is not r or s")
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        problems.append(f"pct={tags['pct']} is not a whole number from 0 to 100")
    if "ri" in tags and not tags["ri"].isdigit():
        problems.append(f"ri={tags['ri']} is not a number of seconds")
    for tag in ("rua", "ruf"):
        bad = [uri for uri in _uris(tags.get(tag, "")) if not _URI_RE.match(uri)]
        if bad:
            problems.append(f"{tag} has URIs without a scheme (use mailto:): {', '.join(bad)}")
    return problems


def _uris(value: str) -> list[str]:
    return [uri.strip() for uri in value.split(",") if uri.strip()]


@dns_guarded(CHECK)
def check_dmarc(
    domain: str,
    *,
    resolver: dns.resolver.Resolver,
    return_path_domain: str | None = None,
    expected_policy: str | None = None,
) -> CheckResult:
    """Check the DMARC record of ``domain`` (the From domain).

    ``return_path_domain`` is the envelope sender's domain; the explanation says whether SPF aligns with
    the From domain. ``expected_policy`` (none/quarantine/reject) is what the tenant wants enforced.
    """
    if expected_policy is not None and expected_policy not in POLICIES:
        raise ValueError(f"expected_policy must be one of {POLICIES}, not {expected_policy!r}")
    name = f"_dmarc.{normalise_name(domain)}"
    records, source, inherited = _find_records(resolver, domain)
    if not records:
        return CheckResult(
            check=CHECK,
            status=MISSING,
            explanation=f"no DMARC record at {name}; receivers apply no policy",
            expected_record=txt_record_line(name, _proposal(None, expected_policy)),
        )
    if len(records) > 1:
        explanation = f"{len(records)} DMARC records at {source}; receivers ignore them all (RFC 7489 6.6.3)"
        expected = txt_record_line(name, _proposal(None, expected_policy))
        return CheckResult(CHECK, INVALID, explanation, expected, {"records": records, "source": source})
    policy = parse_policy(records[0])
    result = _verdict(domain, name, source, inherited, policy, return_path_domain, expected_policy)
    if policy.problems:
        return result
    return _with_report_authorization(result, resolver, source.removeprefix("_dmarc."), policy)


def _uri_domain(uri: str) -> str:
    """The host part of a mailto: report URI ("mailto:d@reports.example!10m" -> "reports.example")."""
    if not uri.lower().startswith("mailto:"):
        return ""
    address = uri[len("mailto:") :].split("!", 1)[0]
    return normalise_name(address.rpartition("@")[2]) if "@" in address else ""


def _with_report_authorization(
    result: CheckResult, resolver: dns.resolver.Resolver, policy_domain: str, policy: Policy
) -> CheckResult:
    """RFC 7489 7.1: a rua/ruf address on another organizational domain receives reports only if that
    domain publishes ``<policy domain>._report._dmarc.<report domain>`` TXT starting with v=DMARC1
    (a wildcard ``*._report._dmarc.<report domain>`` also answers that name)."""
    own = organizational_domain(policy_domain)
    unauthorized: list[str] = []
    checked: dict[str, bool] = {}
    for tag in ("rua", "ruf"):
        for uri in _uris(policy.get(tag)):
            target = _uri_domain(uri)
            if not target or organizational_domain(target) == own:
                continue
            if target not in checked:
                name = f"{policy_domain}._report._dmarc.{target}"
                values = txt_values(query(resolver, name, "TXT"))
                checked[target] = any(_DMARC_START_RE.match(v) for v in values)
            if not checked[target]:
                unauthorized.append(f"{tag} {uri}")
    details = dict(result.details)
    details["external_report_domains"] = {
        d: ("authorized" if ok else "not authorized") for d, ok in checked.items()
    }
    if not unauthorized:
        return CheckResult(result.check, result.status, result.explanation, result.expected_record, details)
    names = sorted({_uri_domain(u.split(" ", 1)[1]) for u in unauthorized})
    message = (
        f"{', '.join(unauthorized)} is on another domain that has not authorized reports for {policy_domain} "
        f'(RFC 7489 7.1): publish TXT "v=DMARC1" at '
        + ", ".join(f"{policy_domain}._report._dmarc.{n}" for n in names)
        + ", or receivers send those reports nowhere"
    )
    status = WARNING if result.status == OK else result.status
    explanation = f"{result.explanation}; {message}" if result.explanation else message
    return CheckResult(result.check, status, explanation, result.expected_record, details)


def _find_records(resolver: dns.resolver.Resolver, domain: str) -> tuple[list[str], str, bool]:
    """The candidate records, where they came from, and whether they were inherited.

    A subdomain without its own record is covered by its organizational domain's record (RFC 7489 6.6.3),
    so "missing" there would send the operator to fix something that works.
    """
    name = f"_dmarc.{normalise_name(domain)}"
    records = _dmarc_records(resolver, name)
    organisation = organizational_domain(domain)
    if records or organisation == normalise_name(domain):
        return records, name, False
    org_name = f"_dmarc.{organisation}"
    return _dmarc_records(resolver, org_name), org_name, True


def _dmarc_records(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    values = txt_values(query(resolver, name, "TXT"))
    # Receivers use only records starting with v=DMARC1; when there is none, whatever else sits at _dmarc
    # is a broken attempt (v= not first, a typo), which we report as invalid rather than missing.
    return [value for value in values if _DMARC_START_RE.match(value)] or values


def _verdict(
    domain: str,
    name: str,
    source: str,
    inherited: bool,
    policy: Policy,
    return_path_domain: str | None,
    expected_policy: str | None,
) -> CheckResult:
    details = _details(policy, source, inherited)
    if policy.problems:
        explanation = "DMARC record does not parse: " + "; ".join(policy.problems)
        expected = txt_record_line(name, _proposal(None, expected_policy))
        return CheckResult(CHECK, INVALID, explanation, expected, details)
    effective = (policy.get("sp") or policy.policy).lower() if inherited else policy.policy
    details["effective_policy"] = effective
    status, messages = _judge_policy(effective, policy, expected_policy)
    if inherited:
        messages.insert(0, f"no record of its own; {source} applies")
    alignment = _alignment(domain, policy, return_path_domain, details)
    if alignment:
        messages.append(alignment)
    proposal = _proposal(policy, expected_policy, current=effective, inherited=inherited)
    expected = "" if status == OK else txt_record_line(name, proposal)
    return CheckResult(CHECK, status, "; ".join(messages), expected, details)


def _details(policy: Policy, source: str, inherited: bool) -> dict[str, object]:
    return {
        "record": policy.record,
        "source": source,
        "inherited": inherited,
        "policy": policy.policy,
        "subdomain_policy": policy.get("sp").lower() or None,
        "pct": policy.pct,
        "rua": _uris(policy.get("rua")),
        "ruf": _uris(policy.get("ruf")),
        "adkim": policy.get("adkim", "r").lower(),
        "aspf": policy.get("aspf", "r").lower(),
    }


def _judge_policy(effective: str, policy: Policy, expected_policy: str | None) -> tuple[str, list[str]]:
    messages = [f"DMARC p={effective}"]
    status = OK
    if effective == "none":
        status = WARNING
        messages[0] += " is monitoring only: failing mail is still delivered"
    elif policy.pct < 100:
        status = WARNING
        messages[0] += f" applies to only {policy.pct}% of failing mail"
    else:
        messages[0] += " is enforced"
    if expected_policy and POLICIES.index(expected_policy) > POLICIES.index(effective):
        status = WARNING
        messages.append(f"expected p={expected_policy}")
    if not policy.get("rua"):
        messages.append("no rua= address, so no aggregate reports arrive")
    return status, messages


def _alignment(
    domain: str, policy: Policy, return_path_domain: str | None, details: dict[str, object]
) -> str:
    if not return_path_domain:
        return ""
    strict = policy.get("aspf", "r").lower() == "s"
    aligned = spf_aligned(domain, return_path_domain, strict=strict)
    details["spf_aligned"] = aligned
    details["return_path_domain"] = normalise_name(return_path_domain)
    mode = "strict, aspf=s" if strict else "relaxed"
    if aligned:
        return f"SPF aligns: return-path {return_path_domain} matches {domain} ({mode})"
    return (
        f"SPF does not align: return-path {return_path_domain} does not match {domain} ({mode}), "
        "so DMARC passes only through DKIM"
    )


def _proposal(
    policy: Policy | None, expected_policy: str | None, *, current: str | None = None, inherited: bool = False
) -> str:
    """A record to publish: the wanted policy (never weaker than ``current``), keeping the report addresses.

    For a subdomain that inherits its organization's record, the proposal is the subdomain's own record, so
    the organization's sp= does not belong in it.
    """
    target = expected_policy or DEFAULT_POLICY
    if current in POLICIES:
        target = POLICIES[max(POLICIES.index(target), POLICIES.index(current))]
    parts = ["v=DMARC1", f"p={target}"]
    kept = ("adkim", "aspf", "rua", "ruf", "fo") if inherited else ("sp", "adkim", "aspf", "rua", "ruf", "fo")
    if policy is not None:
        parts.extend(f"{tag}={policy.get(tag)}" for tag in kept if policy.get(tag))
    return "; ".join(parts)
