"""Sending domains, their DKIM keys, and the latest result of each DNS check.

The history of check results is not kept here: a check that changes status writes an audit event
("domain.check"), and the domain's timeline reads those.
"""

from __future__ import annotations

import functools
import secrets

import idna
from django.db import models
from django.utils import timezone

from core.crypto import EncryptedTextField
from domains.dkim_keys import bind_record
from tenants.models import Tenant

MAX_DOMAIN_LENGTH = 253


class InvalidDomainName(ValueError):
    pass


def normalise_domain(value: str) -> str:
    """The IDNA (UTS 46) ASCII form, lowercase, without a trailing dot: "Exämple.COM" -> "xn--exmple-cua.com".

    Raises InvalidDomainName with a reason a person can act on.
    """
    text = (value or "").strip().rstrip(".")
    if not text:
        raise InvalidDomainName("Enter a domain name.")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise InvalidDomainName(f"{value.strip()!r} is not a valid domain name: {exc}") from None
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise InvalidDomainName("A sending domain needs at least two labels, e.g. example.com.")
    if labels[-1].isdigit():
        raise InvalidDomainName("That looks like an IP address, not a domain name.")
    if len(ascii_name) > MAX_DOMAIN_LENGTH:
        raise InvalidDomainName(f"A domain name has at most {MAX_DOMAIN_LENGTH} characters.")
    return ascii_name


@functools.lru_cache(maxsize=8192)
def display_domain(ascii_name: str) -> str:
    """The Unicode form for people; falls back to the ASCII form if it does not decode.

    Cached: a pure function of the name, and a list page decodes (and validates) every row's name."""
    try:
        return idna.decode(ascii_name)
    except idna.IDNAError:
        return ascii_name


class DmarcPolicy(models.TextChoices):
    NONE = "none", "none (monitor)"
    QUARANTINE = "quarantine", "quarantine"
    REJECT = "reject", "reject"


class CheckStatus(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    MISSING = "missing", "Missing"
    INVALID = "invalid", "Invalid"
    UNKNOWN = "unknown", "Unknown - retry"


# Worst first: the domain's summary is its worst check. Unknown ranks below real problems because
# it says nothing about the record, but above ok because nothing is confirmed either.
SEVERITY: dict[str, int] = {
    CheckStatus.INVALID: 4,
    CheckStatus.MISSING: 3,
    CheckStatus.WARNING: 2,
    CheckStatus.UNKNOWN: 1,
    CheckStatus.OK: 0,
}

# A domain "with problems" (home page count, /domains/?problems=1): its summary (the worst check) says a
# record is wrong, missing or weak. Unknown (a resolver that did not answer) says nothing about the record.
PROBLEM_STATUSES: tuple[str, ...] = (CheckStatus.INVALID, CheckStatus.MISSING, CheckStatus.WARNING)


def worst_status(statuses: list[str]) -> str:
    return max(statuses, key=lambda status: SEVERITY.get(status, 1)) if statuses else ""


# Proof of control, as SendGrid and Postal ask for it: a random token published as TXT under a name of
# our own. The underscored label keeps it out of the apex's TXT set (RFC 8552 underscored names); the
# provider-specific label, a token of at least 128 random bits and "<provider>-verification=<token>" follow
# the IETF draft "Domain Control Validation using DNS" (draft-ietf-dnsop-domain-verification-techniques).
VERIFICATION_LABEL = "_emailengine-challenge"
VERIFICATION_PREFIX = "emailengine-verification="


def new_verification_token() -> str:
    return secrets.token_hex(16)  # 128 bits


class Ownership(models.TextChoices):
    PENDING = "pending", "Pending: publish the TXT record"
    DNS = "dns", "Verified by DNS"
    OPERATOR = "operator", "Verified by an operator"
    EXISTING = "existing", "Added before ownership checks"


class SendingDomain(models.Model):
    """A From domain a tenant sends as; its DNS must carry SPF, DKIM, DMARC and a return-path MX.

    A new domain is pending until its owner proves control of its DNS (``verification_record_*``) or an
    operator vouches for it; until then PMTA does not sign for it. Several tenants may claim a name while it
    is pending (so a claim reveals nothing about other tenants); only one can hold it verified.
    """

    PROBLEM_STATUSES = PROBLEM_STATUSES

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="domains")
    name = models.CharField(
        max_length=MAX_DOMAIN_LENGTH, db_index=True, help_text="IDNA ASCII form, lowercase (xn--... for IDNs)"
    )
    ownership = models.CharField(max_length=10, choices=Ownership.choices, default=Ownership.PENDING)
    verification_token = models.CharField(max_length=64, default=new_verification_token, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    return_path_domain = models.CharField(
        "return-path domain",
        max_length=MAX_DOMAIN_LENGTH,
        help_text="Envelope sender (bounce) domain; SPF is checked here and its MX must reach PMTA",
    )
    expected_dmarc_policy = models.CharField(
        "expected DMARC policy", max_length=10, choices=DmarcPolicy.choices, default=DmarcPolicy.QUARANTINE
    )
    status = models.CharField(
        "summary status", max_length=10, blank=True, help_text="The worst of the latest checks"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="domain_once_per_tenant"),
            models.UniqueConstraint(
                fields=["name"], condition=~models.Q(ownership="pending"), name="domain_one_verified_owner"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return display_domain(self.name)

    @property
    def is_verified(self) -> bool:
        return self.ownership != Ownership.PENDING

    @property
    def verification_record_name(self) -> str:
        return f"{VERIFICATION_LABEL}.{self.name}"

    @property
    def verification_record_value(self) -> str:
        return f"{VERIFICATION_PREFIX}{self.verification_token}"

    @property
    def verification_record(self) -> str:
        """The zone-file line to publish."""
        return f'{self.verification_record_name}. 3600 IN TXT "{self.verification_record_value}"'

    @property
    def is_idn(self) -> bool:
        return any(label.startswith("xn--") for label in self.name.split("."))

    @staticmethod
    def default_return_path(name: str) -> str:
        return f"bounce.{name}"


class KeyState(models.TextChoices):
    PENDING = "pending", "Pending (publish and verify)"
    ACTIVE = "active", "Active (signing)"
    RETIRING = "retiring", "Retiring (still published)"
    RETIRED = "retired", "Retired"


# Keys whose TXT record must stay in DNS: the one being introduced, the one signing, and the one
# whose signatures may still be in flight.
PUBLISHED_STATES = (KeyState.PENDING, KeyState.ACTIVE, KeyState.RETIRING)


class DkimKey(models.Model):
    """One RSA key on one selector. Exactly one key per domain is active: it is the one PMTA signs with."""

    domain = models.ForeignKey(SendingDomain, on_delete=models.CASCADE, related_name="keys")
    selector = models.CharField(max_length=63)
    bits = models.PositiveSmallIntegerField(default=2048)
    # PKCS#8 PEM, Fernet-encrypted in the database (FIELD_ENCRYPTION_KEY); never shown to tenant users.
    private_key = EncryptedTextField()
    public_key_b64 = models.TextField(help_text="The p= value: base64 SubjectPublicKeyInfo DER")
    state = models.CharField(max_length=10, choices=KeyState.choices, default=KeyState.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retire_after = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain__name", "-created_at"]
        verbose_name = "DKIM key"
        constraints = [
            models.UniqueConstraint(fields=["domain", "selector"], name="dkim_selector_unique_per_domain"),
            # The database, not only the service, guarantees one signing key and one rotation at a time.
            models.UniqueConstraint(
                fields=["domain"], condition=models.Q(state="active"), name="dkim_one_active_key_per_domain"
            ),
            models.UniqueConstraint(
                fields=["domain"], condition=models.Q(state="pending"), name="dkim_one_pending_key_per_domain"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.selector} ({self.state})"

    @property
    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain.name}"

    @property
    def txt_record(self) -> str:
        """The zone-file line to publish, value split into 255-byte strings."""
        return bind_record(self.selector, self.domain.name, self.public_key_b64)

    @property
    def is_published(self) -> bool:
        return self.state in PUBLISHED_STATES

    def grace_over(self, now=None) -> bool:
        now = now or timezone.now()
        return self.retire_after is not None and self.retire_after <= now


class CheckName(models.TextChoices):
    SPF = "spf", "SPF"
    DKIM = "dkim", "DKIM"
    DKIM_PENDING = "dkim_pending", "DKIM (new key)"
    DMARC = "dmarc", "DMARC"
    MX = "mx", "Return-path MX"
    PTR = "ptr", "PTR / rDNS"


# A check's place in CheckName, for sorting a domain's checks (built once: CheckName.values makes a new
# list on every call, and the domain list sorts five checks a domain).
_CHECK_ORDER = {name: i for i, name in enumerate(CheckName.values)}

# The columns of the list page; dkim_pending only exists during a rotation.
LIST_CHECKS = (CheckName.SPF, CheckName.DKIM, CheckName.DMARC, CheckName.MX, CheckName.PTR)


class DomainCheck(models.Model):
    """The latest result of one check of one domain."""

    domain = models.ForeignKey(SendingDomain, on_delete=models.CASCADE, related_name="checks")
    # Not "check": that name belongs to Model.check() (system checks).
    name = models.CharField("check", max_length=20, choices=CheckName.choices)
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    explanation = models.TextField(blank=True)
    expected_record = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now, help_text="When the status last changed")

    class Meta:
        ordering = ["domain_id", "name"]
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="one_result_per_domain_check")]

    def __str__(self) -> str:
        return f"{self.domain_id}:{self.name}={self.status}"

    @property
    def order(self) -> int:
        return _CHECK_ORDER[self.name]
