"""Provider data, a source of truth of its own: Google Postmaster Tools v2 (per domain) and Microsoft SNDS
automated data access (per IP). Imported daily (reputation/providers/); secrets are encrypted at rest."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.crypto import EncryptedTextField
from domains.models import SendingDomain
from ips.models import IPAddress
from tenants.models import Tenant


class ProviderAccount(models.Model):
    """Credentials for one provider data source, the operator's (no tenant) or one tenant's.

    Postmaster Tools v2: an OAuth client (id + secret) and a refresh token granted for the scope
    ``https://www.googleapis.com/auth/postmaster.traffic.readonly``. SNDS: the automated-data-access key.
    """

    class Kind(models.TextChoices):
        POSTMASTER = "postmaster", "Google Postmaster Tools v2"
        SNDS = "snds", "Microsoft SNDS"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    label = models.CharField(max_length=100)
    client_id = models.CharField(max_length=200, blank=True)
    client_secret = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    snds_key = EncryptedTextField("SNDS key", blank=True)
    enabled = models.BooleanField(default=True)
    last_import_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "label"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


class PostmasterDomainStat(models.Model):
    """One day of Postmaster Tools v2 metrics for one sending domain (rates are fractions of 1)."""

    domain = models.ForeignKey(SendingDomain, on_delete=models.CASCADE, related_name="postmaster_stats")
    day = models.DateField()
    spam_rate = models.FloatField(null=True, blank=True, help_text="User-reported spam rate (SPAM_RATE)")
    spf_success_rate = models.FloatField(null=True, blank=True)
    dkim_success_rate = models.FloatField(null=True, blank=True)
    dmarc_success_rate = models.FloatField(null=True, blank=True)
    delivery_error_rate = models.FloatField(null=True, blank=True)
    # The domain's compliance status with the bulk-sender rules (getComplianceStatus), as of the import.
    compliance = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "domain"]
        constraints = [models.UniqueConstraint(fields=["domain", "day"], name="postmaster_stat_domain_day")]

    def __str__(self) -> str:
        return f"{self.domain} {self.day}"

    @property
    def needs_work(self) -> list[str]:
        return [r for r, status in (self.compliance or {}).items() if status == "NEEDS_WORK"]


class FeedbackLoopStat(models.Model):
    """Gmail's feedback-loop spam rate for one Feedback-ID on one day (Postmaster Tools v2
    FEEDBACK_LOOP_SPAM_RATE), mapped to a tenant and campaign when the ID follows our convention."""

    domain = models.ForeignKey(SendingDomain, on_delete=models.CASCADE, related_name="feedback_loop_stats")
    day = models.DateField()
    feedback_id = models.CharField(max_length=300)
    spam_rate = models.FloatField(null=True, blank=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    campaign_key = models.CharField(max_length=200, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "feedback_id"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "day", "feedback_id"], name="fbl_stat_domain_day_id")
        ]

    def __str__(self) -> str:
        return f"{self.feedback_id} {self.day}"


class SndsIpStat(models.Model):
    """One SNDS activity period for one IP (a row of data.aspx)."""

    class Filter(models.TextChoices):
        GREEN = "GREEN", "Green: spam < 10%"
        YELLOW = "YELLOW", "Yellow: spam 10-90%"
        RED = "RED", "Red: spam > 90%"

    address = models.GenericIPAddressField()
    ip = models.ForeignKey(IPAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    activity_start = models.DateTimeField()
    activity_end = models.DateTimeField()
    day = models.DateField(help_text="UTC day of the activity end")
    rcpt_commands = models.BigIntegerField(default=0)
    data_commands = models.BigIntegerField(default=0)
    recipients = models.BigIntegerField(default=0)
    filter_result = models.CharField(max_length=6, choices=Filter.choices)
    complaint_rate_text = models.CharField(max_length=20, blank=True, help_text="As SNDS shows it: '< 0.1%'")
    complaint_rate = models.FloatField(
        null=True, blank=True, help_text="A fraction; for '< 0.1%' the bound (0.001) - at most that"
    )
    trap_hits = models.BigIntegerField(default=0)
    sample_helo = models.CharField(max_length=255, blank=True)
    sample_mail_from = models.CharField(max_length=255, blank=True)
    comments = models.CharField(max_length=500, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "address"]
        constraints = [
            models.UniqueConstraint(fields=["address", "activity_start"], name="snds_stat_ip_period")
        ]
        indexes = [models.Index(fields=["address", "day"], name="snds_stat_ip_day")]

    def __str__(self) -> str:
        return f"{self.address} {self.day} {self.filter_result}"
