"""Where accounting records came from (files and webhook batches), the records kept for review, and the
import's running counters."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from ips.models import MtaServer


class AccountingFile(models.Model):
    """One import source and how far it has been read: an accounting file, or a server's webhook per day.

    A file is recognised by path plus a digest of its first bytes (``head_digest`` over ``head_len``
    bytes), so a rotated or replaced file at the same path becomes a new row, while a file PMTA is still
    writing continues from ``offset``: the byte offset in the decompressed stream just after the last
    committed record. ``offset``, ``lines`` and the counters are updated in the same transaction as
    the records they describe.
    """

    class Kind(models.TextChoices):
        FILE = "file", "File"
        WEBHOOK = "webhook", "Webhook"
        REINGEST = "reingest", "Re-ingested records"  # "re-ingest YYYY-MM-DD", per crediting server

    class Status(models.TextChoices):
        NEW = "new", "New"
        IMPORTING = "importing", "Importing"
        WAITING = "waiting", "Waiting for more"  # read to the end, PMTA may still append
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FILE)
    server = models.ForeignKey(
        MtaServer, on_delete=models.SET_NULL, null=True, blank=True, related_name="accounting_files"
    )
    # Webhook rows: "webhook YYYY-MM-DD" (one row per server and UTC day).
    path = models.CharField(max_length=1024)
    inode = models.BigIntegerField(null=True, blank=True)
    size = models.BigIntegerField(default=0, help_text="Bytes on disk when last read")
    mtime = models.DateTimeField(null=True, blank=True)
    head_digest = models.CharField(max_length=64, blank=True, help_text="sha256 of the first head_len bytes")
    head_len = models.PositiveIntegerField(default=0)
    compressed = models.BooleanField(default=False)
    offset = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0, help_text="Lines consumed (header included)")
    header = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    records_read = models.BigIntegerField(default=0)
    imported = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0, help_text="Records held aside: sent from another server's IP")
    by_type = models.JSONField(default=dict, blank=True, help_text="Imported records per type")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["path"], name="acct_file_path")]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "path"],
                condition=models.Q(kind="webhook"),
                nulls_distinct=False,
                name="acct_webhook_source_per_day",
            )
        ]

    def __str__(self) -> str:
        return self.path


class ImportRejection(models.Model):
    """A record that was refused or held aside, with why, kept verbatim so it can be re-ingested.

    ``data`` holds the record's bytes exactly as they came (a CSV line with ``header`` to read it by, a
    JSON item, an NDJSON line), up to ``DATA_KEPT_MAX`` bytes (``data_size`` is the full length). The
    first ``importer.REJECTIONS_KEPT_PER_FILE`` per source are kept; the rest are only counted in
    ``AccountingFile.rejected``. ``kind`` says why it is here: refused (``rejected``), or valid but
    sent from an IP of another server than the one that reported it (``mismatch``), which is never
    credited to anyone until an operator re-ingests it.
    """

    DATA_KEPT_MAX = 1 << 20

    class Kind(models.TextChoices):
        REJECTED = "rejected", "Rejected"
        MISMATCH = "mismatch", "Server mismatch"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "JSON"
        NDJSON = "ndjson", "NDJSON"

    class Resolution(models.TextChoices):
        OPEN = "", "Open"
        IMPORTED = "imported", "Re-ingested"
        DUPLICATE = "duplicate", "Re-ingested (already stored)"
        DISMISSED = "dismissed", "Dismissed"

    file = models.ForeignKey(AccountingFile, on_delete=models.CASCADE, related_name="rejections")
    server = models.ForeignKey(
        MtaServer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REJECTED)
    line = models.BigIntegerField(help_text="Line in the file, or item number in a webhook body")
    reason = models.CharField(max_length=300)
    raw = models.CharField(max_length=500, blank=True, help_text="The start of the record, for display")
    data = models.BinaryField(blank=True, default=b"", help_text="The record's bytes as received")
    data_size = models.BigIntegerField(default=0, help_text="Full length of the record in bytes")
    data_format = models.CharField(max_length=6, choices=Format.choices, default=Format.CSV)
    header = models.JSONField(default=list, blank=True, help_text="CSV: the header the line is read by")
    created_at = models.DateTimeField(default=timezone.now)
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["file", "line", "pk"]
        indexes = [models.Index(fields=["resolution", "kind", "-created_at"], name="rejection_open_recent")]

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}"

    @property
    def is_open(self) -> bool:
        return not self.resolution

    @property
    def complete(self) -> bool:
        """Whether ``data`` holds the whole record as it came (it can be re-ingested)."""
        return bool(self.data) and self.data_size <= self.DATA_KEPT_MAX


class AccountingCounter(models.Model):
    """Monotonic totals for /metrics (``imported:d``, ``rejected`` ...): one cheap read, no big scans."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
