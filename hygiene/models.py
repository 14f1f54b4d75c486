"""Address validation ("list hygiene"): a tenant's uploaded list and the verdict on every row.

The upload is kept as UTF-8 CSV text on the job itself, so a worker that restarts re-reads it from the
database and skips the rows already decided: verdicts are written in numbered chunks (one row per chunk,
unique per job), in the same transaction that advances ``done``, so a chunk is never counted twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.models import Tenant

__all__ = ["ValidationChunk", "ValidationJob"]


class ValidationJob(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        FILE = "file", "File upload"
        PASTE = "paste", "Pasted addresses"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="validation_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.FILE)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.NEW, db_index=True)
    total = models.PositiveIntegerField(default=0, help_text="Data rows in the upload")
    done = models.PositiveIntegerField(default=0, help_text="Rows with a verdict")
    # {"status": {"valid": n, ...}, "reason": {"null_mx": n, ...}, "dns": {"domains": n, "queries": n}}
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The heartbeat: bumped with every chunk, so a running job that stops moving is known to be orphaned.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    # How the upload is read back (decided once, at upload time).
    email_column = models.CharField(max_length=200, blank=True, help_text="Header name or 'column N'")
    email_index = models.PositiveSmallIntegerField(default=0)
    has_header = models.BooleanField(default=False)
    header = models.JSONField(default=list, blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    width = models.PositiveSmallIntegerField(default=1, help_text="Columns in the widest row")
    source_text = models.TextField(blank=True, help_text="The upload, decoded (UTF-8)")
    source_bytes = models.PositiveIntegerField(default=0)
    # Each run claims the job with a fresh token; a chunk is committed only while the token still matches,
    # so a worker that was presumed dead and comes back cannot write over its successor.
    attempts = models.PositiveSmallIntegerField(default=0)
    run_token = models.CharField(max_length=32, blank=True)

    class Meta:
        # Tables keep the names they had when these models lived in campaigns (moved with their rows).
        db_table = "campaigns_validationjob"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="validation_job_tenant")]

    def __str__(self) -> str:
        return f"{self.filename or 'validation'} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.done * 100 // self.total)


class ValidationChunk(models.Model):
    """The verdicts of rows ``first_row`` .. ``first_row + len(results) - 1`` (0-based data rows).

    ``results`` is a list of ``[status, reason, key]``; key is the normalised, lower-cased address (empty
    when the syntax was bad), kept so a resumed run knows which addresses it has already seen.
    """

    job = models.ForeignKey(ValidationJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_row = models.PositiveIntegerField()
    results = models.JSONField(default=list)

    class Meta:
        db_table = "campaigns_validationchunk"
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="validation_chunk_unique")]

    def __str__(self) -> str:
        return f"job {self.job_id} chunk {self.index}"
