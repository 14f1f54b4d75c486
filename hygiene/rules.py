"""The verdict on one address, as pure functions (no database, no network).

Every row gets one status and at most one reason. The checks are ordered so the most useful reason wins:

| order | condition                                   | status  | reason            |
|-------|---------------------------------------------|---------|-------------------|
| 1     | syntax rejected by email-validator           | invalid | bad_syntax        |
| 2     | same address earlier in the upload           | invalid | duplicate         |
| 3     | on the tenant's suppression list             | invalid | suppressed        |
| 4     | domain does not exist (NXDOMAIN)             | invalid | domain_not_found  |
| 5     | domain publishes a null MX (RFC 7505)        | invalid | null_mx           |
| 6     | no MX and no usable A/AAAA                   | invalid | no_mail_server    |
| 7     | disposable-address domain                    | risky   | disposable        |
| 8     | role account (postmaster@, info@ ...)        | risky   | role_account      |
| 9     | DNS timed out                                | unknown | dns_timeout       |
| 10    | DNS failed otherwise (SERVFAIL, REFUSED)     | unknown | dns_error         |
| -     | none of the above                            | valid   | (empty)           |

Decisions: a duplicate is "invalid" so that keeping the valid rows of the result keeps every address once
(the first occurrence carries the real verdict); a suppressed address is "invalid" because sending to it
is exactly what the suppression list forbids. DNS trouble can only ever give "unknown", never "invalid":
a slow resolver must not make a tenant delete good addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT

# Where the disposable-domain list comes from; shown on the page.
DISPOSABLE_SOURCE = "github.com/disposable-email-domains/disposable-email-domains"
DISPOSABLE_PACKAGE = "disposable-email-domains 0.0.293 (PyPI, November 2026)"

VALID, INVALID, RISKY, UNKNOWN = "valid", "invalid", "risky", "unknown"
STATUSES = (VALID, INVALID, RISKY, UNKNOWN)
STATUS_LABELS = {VALID: "Valid", INVALID: "Invalid", RISKY: "Risky", UNKNOWN: "Unknown"}

# Outcomes of the DNS lookup of one domain (hygiene.dns produces them).
DNS_OK = "ok"
DNS_NXDOMAIN = "nxdomain"
DNS_NULL_MX = "null_mx"
DNS_NO_HOST = "no_host"
DNS_TIMEOUT = "timeout"
DNS_ERROR = "error"

# reason code -> (status, label). The order is the order of the checks (and of the summary on the page).
REASONS: dict[str, tuple[str, str]] = {
    "bad_syntax": (INVALID, "Bad syntax"),
    "duplicate": (INVALID, "Duplicate in the upload"),
    "suppressed": (INVALID, "On the suppression list"),
    "domain_not_found": (INVALID, "Domain does not exist"),
    "null_mx": (INVALID, "Domain accepts no mail (null MX, RFC 7505)"),
    "no_mail_server": (INVALID, "No MX and no usable A/AAAA"),
    "disposable": (RISKY, "Disposable address domain"),
    "role_account": (RISKY, "Role account"),
    "dns_timeout": (UNKNOWN, "DNS timed out"),
    "dns_error": (UNKNOWN, "DNS error (SERVFAIL or refused)"),
}

_DNS_INVALID = {DNS_NXDOMAIN: "domain_not_found", DNS_NULL_MX: "null_mx", DNS_NO_HOST: "no_mail_server"}
_DNS_UNKNOWN = {DNS_TIMEOUT: "dns_timeout", DNS_ERROR: "dns_error"}

# Local parts that reach a function or a team rather than a person: mail to them draws complaints and
# they are often spam traps. Compared after lower-casing and dropping a "+tag".
ROLE_LOCAL_PARTS = frozenset(
    {
        "abuse",
        "accounting",
        "accounts",
        "admin",
        "administrator",
        "billing",
        "careers",
        "contact",
        "customerservice",
        "do-not-reply",
        "donotreply",
        "enquiries",
        "feedback",
        "finance",
        "help",
        "helpdesk",
        "hostmaster",
        "hr",
        "info",
        "inquiries",
        "jobs",
        "legal",
        "list",
        "list-request",
        "mailer-daemon",
        "marketing",
        "media",
        "newsletter",
        "no-reply",
        "no_reply",
        "noc",
        "noreply",
        "office",
        "orders",
        "postmaster",
        "press",
        "privacy",
        "root",
        "sales",
        "security",
        "support",
        "sysadmin",
        "team",
        "webmaster",
        "www",
    }
)


@dataclass(frozen=True, slots=True)
class Address:
    """A syntactically valid address: ``key`` is the normalised address lower-cased (duplicates and the
    suppression list compare it), ``domain`` the ASCII (IDNA) domain that DNS is asked about."""

    key: str
    local: str
    domain: str
    ascii_key: str = ""  # the IDNA form when it differs (accounting records hold that one)


def parse_address(raw: str) -> Address | str:
    """The parsed address, or the reason (a sentence) why its syntax is bad.

    email-validator does the work: internationalised domains become IDNA, Unicode is normalised (NFC),
    the domain is lower-cased. Deliverability is checked separately, with our own cached DNS.
    """
    value = raw.strip().strip("<>").strip()
    if not value:
        return "empty address"
    local_part, at, domain_part = value.rpartition("@")
    if at and local_part and value.isascii() and len(value) <= MAX_ASCII_ADDRESS:
        # Fast path, same answers (a test compares them): checking the domain is most of email-validator's
        # time (UTS-46 per character) and a list repeats few domains many times, so each domain is checked
        # once; a plain dot-atom local part is accepted as email-validator itself does (its own regex),
        # anything else is checked against a short stand-in domain.
        checked = _check_domain(domain_part)
        if checked is None:
            return _full_check_error(value)
        if DOT_ATOM_TEXT.match(local_part):
            local = local_part  # what email-validator accepts unchanged for a plain ASCII local part
        else:
            try:
                local = validate_email(
                    f"{local_part}@{_STAND_IN_DOMAIN}", check_deliverability=False
                ).local_part
            except EmailNotValidError as exc:
                return str(exc)
        unicode_domain, ascii_domain = checked
        key = f"{local}@{unicode_domain}".lower()
        ascii_key = f"{local}@{ascii_domain}".lower()
        return Address(
            key=key, local=local.lower(), domain=ascii_domain, ascii_key="" if ascii_key == key else ascii_key
        )
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    domain = result.ascii_domain or result.domain
    key = result.normalized.lower()
    ascii_key = (result.ascii_email or "").lower()
    return Address(
        key=key,
        local=result.local_part.lower(),
        domain=domain,
        ascii_key="" if ascii_key == key else ascii_key,
    )


MAX_ASCII_ADDRESS = 254  # RFC 5321 path limit minus the angle brackets; email-validator's limit too
_STAND_IN_DOMAIN = "a.co"


@lru_cache(maxsize=200_000)
def _check_domain(domain_part: str) -> tuple[str, str] | None:
    """(domain, ASCII domain) as email-validator normalises them, or None when the domain is refused."""
    try:
        result = validate_email(f"a@{domain_part}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.domain, result.ascii_domain or result.domain


def _full_check_error(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return "invalid domain"  # not reached: the domain alone was refused


def is_role_account(local: str) -> bool:
    return local.split("+", 1)[0] in ROLE_LOCAL_PARTS


@lru_cache(maxsize=65536)
def is_disposable(domain: str) -> bool:
    """True for a listed domain or any subdomain of one (x.mailinator.com is as disposable as its parent)."""
    labels = domain.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE_DOMAINS for i in range(len(labels) - 1))


def classify(
    *,
    syntax_ok: bool,
    duplicate: bool = False,
    suppressed: bool = False,
    dns: str | None = None,
    disposable: bool = False,
    role: bool = False,
) -> tuple[str, str]:
    """(status, reason) for one row, following the table in this module's docstring."""
    if not syntax_ok:
        return INVALID, "bad_syntax"
    if duplicate:
        return INVALID, "duplicate"
    if suppressed:
        return INVALID, "suppressed"
    if dns in _DNS_INVALID:
        return INVALID, _DNS_INVALID[dns]
    if disposable:
        return RISKY, "disposable"
    if role:
        return RISKY, "role_account"
    if dns in _DNS_UNKNOWN:
        return UNKNOWN, _DNS_UNKNOWN[dns]
    if dns != DNS_OK:
        # Not looked up at all would be a bug upstream; never call such a row valid.
        return UNKNOWN, "dns_error"
    return VALID, ""


def needs_dns(*, syntax_ok: bool, duplicate: bool, suppressed: bool) -> bool:
    """Rows already invalid for a reason DNS cannot change are not looked up (saves queries)."""
    return syntax_ok and not duplicate and not suppressed
