"""Each tenant's suppression list and its CSV import jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.models.events import DeliveryEvent
from tenants.models import Tenant


class Suppression(models.Model):
    """An address a tenant must not mail again (hard bounce, complaint, or added by hand/import)."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Complaint"
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="suppressions")
    email = models.CharField(max_length=320, help_text="Lower-cased")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    # Events are pruned after the retention period; detail keeps the why.
    # No database constraint: events are partitioned, and a foreign key needs a unique key on id alone.
    source_event = models.ForeignKey(
        DeliveryEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, help_text="Username or a 'system: ...' label")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "email"], name="suppression_unique_email")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class SuppressionImport(models.Model):
    """A suppression CSV upload, imported by a background job (campaigns.services.suppression_import).

    The upload is kept on the row so a worker that restarts reads it again from the database; each chunk
    commits its suppressions together with ``checkpoint_line`` and the counts, so a resumed run skips what
    is done and counts nothing twice. Every bad line is counted (``errors_total``), the first
    ``IMPORT_MAX_ERRORS`` are listed with their number and reason.
    """

    class Status(models.TextChoices):
        NEW = "new", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="suppression_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_label = models.CharField(max_length=150)
    # The request that uploaded it (API token label, client address): the job's audit event names them.
    created_via = models.CharField(max_length=150, blank=True, default="")
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    data = models.BinaryField(help_text="The upload as sent")
    size = models.BigIntegerField(default=0)
    total_lines = models.BigIntegerField(default=0, help_text="Lines in the upload (for progress)")
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.NEW, db_index=True)
    checkpoint_line = models.BigIntegerField(default=0, help_text="Last line whose result is committed")
    lines = models.BigIntegerField(default=0, help_text="Data lines read")
    added = models.BigIntegerField(default=0)
    already = models.BigIntegerField(default=0, help_text="Already on the list before")
    duplicates = models.BigIntegerField(default=0, help_text="The same address again in this file")
    errors_total = models.BigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[line, reason, excerpt] of the first ones")
    header = models.BooleanField(default=False)
    email_column = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True, help_text="Why the job failed")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)  # the heartbeat
    attempts = models.PositiveSmallIntegerField(default=0)
    run_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="supp_import_tenant")]

    def __str__(self) -> str:
        return f"{self.filename or 'suppression import'} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_lines:
            return 0
        return min(99, self.checkpoint_line * 100 // self.total_lines)
