"""Daily aggregates of the delivery records (kept for good)."""

from __future__ import annotations

from django.db import models

from campaigns.models.events import Campaign
from ips.models import IPAddress
from tenants.models import Tenant


class DailyCounters(models.Model):
    """The record counts a daily row keeps (campaigns/stats.py turns them into sent and rates)."""

    delivered = models.BigIntegerField(default=0)
    hard_bounces = models.BigIntegerField(default=0)
    soft_bounces = models.BigIntegerField(default=0)
    transient = models.BigIntegerField(default=0)
    complaints = models.BigIntegerField(default=0)
    received = models.BigIntegerField(default=0)
    other = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DailyStat(DailyCounters):
    """Counts per UTC day x sending IP x vmta x recipient domain x campaign x tenant; kept for good."""

    day = models.DateField()
    source_ip = models.CharField(max_length=45, blank=True)
    vmta = models.CharField(max_length=100, blank=True)
    rcpt_domain = models.CharField(max_length=255, blank=True)
    campaign_key = models.CharField(max_length=200, blank=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    # Filled when the row is first written; not part of the key. Indexed by daily_stat_campaign_day.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="daily_stats", db_index=False
    )
    ip = models.ForeignKey(
        IPAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    bounce_categories = models.JSONField(default=dict, blank=True, help_text="b/rb records per category")
    transient_categories = models.JSONField(default=dict, blank=True, help_text="t/tq records per category")

    class Meta:
        ordering = ["-day", "source_ip", "rcpt_domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source_ip", "vmta", "rcpt_domain", "campaign_key", "tenant"],
                nulls_distinct=False,
                name="daily_stat_key",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "day"], name="daily_stat_tenant_day"),
            models.Index(fields=["source_ip", "day"], name="daily_stat_ip_day"),
            # The daily stats by IP (API), newest day first then by address: a page is grouped along this
            # index (no sort of a whole day's rows) and its count is an index-only scan (migration 0024).
            models.Index(fields=["-day", "source_ip"], name="daily_stat_day_ip"),
            # The campaign list sums a page of campaigns over a date range.
            models.Index(fields=["campaign", "day"], name="daily_stat_campaign_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source_ip} {self.rcpt_domain} {self.campaign_key}"

    @property
    def bounces(self) -> int:
        # campaigns.stats is the one definition of what counts as a bounce.
        from campaigns.stats import Counts

        return Counts.from_row(self).bounces


class DailyTenantStat(DailyCounters):
    """DailyStat summed per UTC day and tenant, for pages that look at the whole fleet or a whole tenant.

    Kept by a Postgres trigger on DailyStat (migration 0006), so every way of writing DailyStat (the
    importer's upserts, COPY, the ORM) keeps it exact without knowing it exists. The tenant is a bare id:
    when a tenant is deleted its DailyStat rows go, the trigger zeroes these, and nothing must block that.
    """

    day = models.DateField()
    tenant_id = models.BigIntegerField(null=True, blank=True)
    bounce_categories = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "tenant_id"], nulls_distinct=False, name="daily_tenant_stat_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} tenant {self.tenant_id}"


class DailyDomainStat(DailyCounters):
    """DailyStat summed per UTC day, tenant and recipient domain: the daily stats by provider (and by
    tenant) read a few rows per tenant and day instead of one per IP, vmta, domain and campaign.

    Kept by the same trigger as DailyTenantStat (migration 0022), so every way DailyStat is written keeps
    it exact. A row whose counts all went back to zero (its DailyStat rows deleted, e.g. with their
    tenant) is removed, so it lists nothing DailyStat no longer has. The tenant is a bare id, as above.
    """

    day = models.DateField()
    tenant_id = models.BigIntegerField(null=True, blank=True)
    rcpt_domain = models.CharField(max_length=255, blank=True)
    bounce_categories = models.JSONField(default=dict, blank=True)
    transient_categories = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-day", "rcpt_domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "tenant_id", "rcpt_domain"], nulls_distinct=False, name="daily_domain_stat_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} tenant {self.tenant_id} {self.rcpt_domain}"


class DailyCampaignStat(DailyCounters):
    """DailyStat summed per campaign and UTC day (rows with a campaign only): the campaign list's totals.

    Kept by the same trigger (migration 0022). ``campaign_id`` is a bare id: a deleted campaign's
    DailyStat rows lose their campaign (SET NULL), the trigger takes their counts off and removes the
    emptied rows.
    """

    campaign_id = models.BigIntegerField()
    day = models.DateField()
    bounce_categories = models.JSONField(default=dict, blank=True)
    transient_categories = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["campaign_id", "-day"]
        constraints = [models.UniqueConstraint(fields=["campaign_id", "day"], name="daily_campaign_stat_key")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} {self.day}"
