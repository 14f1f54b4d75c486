"""Blocklists (the catalogue, editable), sweeps, listings with their history, and the latest verdict per pair.

A listing is opened by a sweep that finds a target listed and closed (``cleared_at``) by a later sweep that
finds it clean. A sweep whose query for that pair failed changes nothing: an error is neither a listing nor
a clearing. ``CheckState`` keeps only the latest verdict of each (target, list), errors included, for the
overview grid; the history lives in ``Listing`` rows and in the audit log ("dnsbl.listed"/"dnsbl.cleared").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.crypto import EncryptedTextField
from domains.models import SendingDomain
from ips.models import IPAddress
from reputation.dnsbl.catalogue import Blocklist as CatalogueEntry
from reputation.dnsbl.catalogue import blocklist_from_dict
from tenants.models import Tenant

if TYPE_CHECKING:
    from reputation.dnsbl.engine import Result


class Kind(models.TextChoices):
    IP = "ip", "IP"
    DOMAIN = "domain", "Domain"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class CheckStatus(models.TextChoices):
    LISTED = "listed", "Listed"
    CLEAN = "clean", "Clean"
    ERROR = "error", "Error"
    # A grading list's answer (Mailspike rep): shown as reputation, never a listing.
    REPUTATION = "reputation", "Reputation"


class Scope(models.TextChoices):
    """What a listing says something about (reputation/dnsbl/catalogue.py)."""

    IP = "ip", "This IP"
    SUBNET = "subnet", "Its subnet (/24 or allocation)"
    ASN = "asn", "Its network (ASN)"
    DOMAIN = "domain", "This domain"


class Blocklist(models.Model):
    """One DNS blocklist, loaded from reputation/dnsbl/catalogue.py by a data migration, then editable."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    zone = models.CharField(max_length=253)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        help_text="A new listing on a critical list puts the IP on hold (DNSBL_HOLD_ON_CRITICAL)",
    )
    codes = models.JSONField(default=dict, blank=True, help_text="Answer -> meaning: listed")
    error_codes = models.JSONField(
        default=dict, blank=True, help_text="Answer -> meaning: the list refused to answer (never a listing)"
    )
    good_codes = models.JSONField(default=dict, blank=True, help_text="Answer -> meaning: a favourable grade")
    bitmask = models.JSONField(default=dict, blank=True, help_text="Bit -> meaning, for multi lists")
    delist_url = models.URLField("delisting URL", blank=True)
    enabled = models.BooleanField(default=True)
    supports_dqs = models.BooleanField("supports Spamhaus DQS", default=False)
    dqs_zone = models.CharField("DQS zone", max_length=253, blank=True)
    # With a key, the list is queried at KEY.<dqs_zone> (Spamhaus Data Query Service), not the public zone.
    dqs_key = EncryptedTextField("DQS access key", blank=True)
    notes = models.TextField(blank=True)
    error_ranges = models.JSONField(
        default=list,
        blank=True,
        help_text="CIDR ranges whose every answer is an error (Spamhaus 127.255.255.0/24)",
    )
    reputation = models.BooleanField(
        default=False, help_text="The list grades senders (Mailspike rep): never a listing, never a hold"
    )
    scope = models.CharField(
        max_length=10,
        choices=Scope.choices,
        default=Scope.IP,
        help_text="Only a listing of the IP itself can hold an IP; a subnet or ASN listing is context",
    )
    source_url = models.URLField("documentation", blank=True, help_text="The list's own page for its codes")
    # Circuit breaker (services.sweep_apply): the list reported a large share of the swept fleet at once, so
    # its listings hold nothing until a sweep finds it back under the share.
    breaker_tripped_at = models.DateTimeField(null=True, blank=True)
    breaker_detail = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    def as_entry(self) -> CatalogueEntry:
        """The engine's dataclass for this row (the engine runs on database rows, not on the shipped data)."""
        return blocklist_from_dict(
            {
                "key": self.key,
                "name": self.name,
                "zone": self.zone,
                "kind": self.kind,
                "severity": self.severity,
                "codes": self.codes or {},
                "error_codes": self.error_codes or {},
                "good_codes": self.good_codes or {},
                "bitmask": self.bitmask or {},
                "delist_url": self.delist_url,
                "supports_dqs": self.supports_dqs,
                "dqs_zone": self.dqs_zone,
                "notes": self.notes,
                "error_ranges": self.error_ranges or [],
                "reputation": self.reputation,
                "scope": self.scope,
                "source_url": self.source_url,
            }
        )

    @property
    def can_hold(self) -> bool:
        """Whether a new listing here may pause an IP by itself: a critical list, about the IP itself, not a
        reputation scale, and its circuit breaker not tripped."""
        return (
            self.severity == Severity.CRITICAL
            and self.scope == Scope.IP
            and not self.reputation
            and self.breaker_tripped_at is None
        )

    @property
    def uses_dqs(self) -> bool:
        return bool(self.dqs_key and self.supports_dqs and self.dqs_zone)

    @property
    def display_zone(self) -> str:
        """The zone as shown to people: a DQS key is a secret, so it never appears."""
        return f"{self.dqs_zone} (DQS)" if self.uses_dqs else self.zone


class Sweep(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        COMMAND = "command", "Command"

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField("duration (s)", null=True, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    targets = models.PositiveIntegerField(default=0)
    queries = models.PositiveIntegerField(default=0)
    listed = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    new_listings = models.PositiveIntegerField(default=0)
    cleared = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="Why the sweep did not finish")

    # The run's answers, kept on the object by services.sweep_run (not stored; listings and states are).
    results: list[Result]

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"sweep {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def running(self) -> bool:
        return self.finished_at is None and not self.failure


class Listing(models.Model):
    """One period during which a target was listed on one list: first seen, last seen, cleared."""

    target = models.CharField(max_length=253)
    target_kind = models.CharField(max_length=10, choices=Kind.choices)
    ip = models.ForeignKey(
        IPAddress, on_delete=models.CASCADE, null=True, blank=True, related_name="dnsbl_listings"
    )
    domain = models.ForeignKey(
        SendingDomain, on_delete=models.CASCADE, null=True, blank=True, related_name="dnsbl_listings"
    )
    # The owner when the listing was found; it tags the audit events. Pages scope through ip/domain instead,
    # so an IP that moved to another tenant's pool since is not shown to its former tenant.
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    blocklist = models.ForeignKey(Blocklist, on_delete=models.CASCADE, related_name="listings")
    code = models.CharField(max_length=200)
    meaning = models.CharField(max_length=500)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    hold_applied = models.BooleanField(default=False, help_text="This listing put the IP on hold")

    class Meta:
        ordering = ["-first_seen", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "blocklist"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_listing_per_target_and_list",
            )
        ]
        indexes = [models.Index(fields=["target", "-first_seen"], name="listing_target_recent")]

    def __str__(self) -> str:
        return f"{self.target} on {self.blocklist.name}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class CheckState(models.Model):
    """The latest verdict of one list about one inventory target (errors included); one row per pair."""

    target = models.CharField(max_length=253)
    target_kind = models.CharField(max_length=10, choices=Kind.choices)
    # The inventory object, so pages join and scope through it (an inet column does not compare to text).
    ip = models.ForeignKey(
        IPAddress, on_delete=models.CASCADE, null=True, blank=True, related_name="dnsbl_states"
    )
    domain = models.ForeignKey(
        SendingDomain, on_delete=models.CASCADE, null=True, blank=True, related_name="dnsbl_states"
    )
    blocklist = models.ForeignKey(Blocklist, on_delete=models.CASCADE, related_name="states")
    status = models.CharField(max_length=12, choices=CheckStatus.choices)
    code = models.CharField(max_length=200, blank=True)
    meaning = models.CharField(max_length=500, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "blocklist"], name="one_state_per_target_and_list")
        ]

    def __str__(self) -> str:
        return f"{self.target} / {self.blocklist_id}: {self.status}"
