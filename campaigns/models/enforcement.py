"""Tenant enforcement: a tenant whose complaint or bounce rate crosses its threshold is held (campaigns/
enforcement.py); an operator releases it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import Tenant


class TenantHold(models.Model):
    """One period during which a tenant's traffic was held, why (with the numbers), and who released it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="holds")
    signal = models.CharField(max_length=20, help_text="complaint_rate or hard_bounce_rate")
    rate = models.FloatField(help_text="The rate that crossed the threshold (a fraction)")
    threshold = models.FloatField()
    reason = models.CharField(max_length=500)
    numbers = models.JSONField(default=dict, help_text="campaigns.stats counts and rates of the window")
    window_start = models.DateField()
    window_end = models.DateField()
    # The IPs this hold paused: only these are resumed on release (one paused for another reason stays).
    ip_ids = models.JSONField(default=list, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=150, blank=True)
    release_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(released_at__isnull=True),
                name="one_open_hold_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"hold of {self.tenant} ({self.signal})"

    @property
    def is_open(self) -> bool:
        return self.released_at is None

    @property
    def tag(self) -> str:
        """The prefix of the status reason of every IP this hold paused."""
        return f"tenant hold #{self.pk}"
