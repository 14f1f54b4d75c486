"""MailWizz integration: per-tenant connection settings, the campaigns synced from MailWizz, and the
outbox of hard bounces and complaints posted back to it.

The tables keep the names they had when these models lived in campaigns (moved with their rows).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.crypto import EncryptedTextField
from tenants.models import Tenant

__all__ = ["MailWizzCampaign", "MailWizzConfig", "MailWizzOutbox"]


class MailWizzConfig(models.Model):
    """How to reach one tenant's MailWizz: API URL, auth mode and keys (encrypted, write-only in the UI)."""

    class Mode(models.TextChoices):
        MW2 = "mw2", "MailWizz 2.x (X-API-KEY header)"
        MW1 = "mw1", "MailWizz 1.x (signed requests)"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="mailwizz_config")
    base_url = models.URLField(
        max_length=500, help_text="The API root, e.g. https://mw.example.com/api (or .../api/index.php)"
    )
    mode = models.CharField(max_length=3, choices=Mode.choices, default=Mode.MW2)
    # 2.x: the API key; 1.x: the public key.
    api_key = EncryptedTextField(blank=True)
    # 1.x only: the private key that signs requests.
    private_key = EncryptedTextField(blank=True)
    header_prefix = models.CharField(
        max_length=40,
        default="X-Mw-",
        blank=True,
        help_text="MailWizz's email.custom.header.prefix: X-Mw- (1.x), X- (2.x) or random",
    )
    campaign_key_prefix = models.CharField(
        max_length=60,
        default="mailwizz-",
        blank=True,
        help_text="Stripped from an accounting campaign key to get the MailWizz campaign uid",
    )
    enabled = models.BooleanField(default=True)
    last_sync_at = models.DateTimeField(null=True, blank=True, help_text="Last sync attempt")
    last_sync_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    campaigns_synced = models.PositiveIntegerField(default=0)
    # Highest DeliveryEvent id already scanned for feedback.
    feedback_watermark = models.BigIntegerField(default=0)
    # Which of the outbox's write routes this MailWizz serves (MailWizzClient.routes_available), e.g.
    # {"bounce": false, "unsubscribe_all": false} on 1.3.8.3; {} until the first check.
    routes = models.JSONField(default=dict, blank=True)
    routes_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Tables keep the names they had when these models lived in campaigns (moved with their rows).
        db_table = "campaigns_mailwizzconfig"
        ordering = ["tenant__name"]

    def __str__(self) -> str:
        return f"MailWizz of {self.tenant_id}"

    @property
    def api_key_set(self) -> bool:
        return bool(self.api_key)

    @property
    def private_key_set(self) -> bool:
        return bool(self.private_key)

    @property
    def campaign_header(self) -> str:
        """The header MailWizz 1.x writes the campaign uid into (needs record-fields header_<this>)."""
        return f"{self.header_prefix}Campaign-Uid"

    def has_route(self, name: str) -> bool:
        """Whether the write route ``name`` is there (assumed so until the connection test has looked)."""
        return self.routes.get(name, True) is not False

    def campaign_uid_for_key(self, key: str, known_uids: set[str] | frozenset[str] = frozenset()) -> str:
        """The MailWizz campaign uid behind an accounting campaign key, or '' when it is not one.

        With a prefix (default "mailwizz-", the X-Job: mailwizz-[CAMPAIGN_UID] convention) the rest of the
        key is the uid; otherwise the key must be a uid seen in the sync (header_*Campaign-Uid sources).
        """
        key = (key or "").strip()
        if not key:
            return ""
        prefix = self.campaign_key_prefix
        if prefix and key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
        return key if key in known_uids else ""


class MailWizzCampaign(models.Model):
    """A campaign as MailWizz lists it, refreshed by the sync."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="mailwizz_campaigns")
    uid = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=40, blank=True)
    list_uid = models.CharField(max_length=64, blank=True)
    list_name = models.CharField(max_length=255, blank=True)
    send_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "campaigns_mailwizzcampaign"
        ordering = ["-send_at", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "uid"], name="mailwizz_campaign_uid_unique")]

    def __str__(self) -> str:
        return self.name or self.uid


class MailWizzOutbox(models.Model):
    """One hard bounce or complaint to tell MailWizz about; unique, so each is sent at most once."""

    class Kind(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Complaint"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="mailwizz_outbox")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    email = models.CharField(max_length=320, help_text="Lower-cased")
    # Always '' for a complaint: the unsubscribe is from all lists, so one per address is enough.
    campaign_uid = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=250, blank=True)
    # The accounting record behind it (events are pruned, so no foreign key).
    event_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "campaigns_mailwizzoutbox"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "email", "campaign_uid"], name="mailwizz_outbox_once"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_retry_at"], name="mailwizz_outbox_due"),
            models.Index(fields=["tenant", "status"], name="mailwizz_outbox_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.email} {self.campaign_uid}".strip()
