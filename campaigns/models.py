"""Accounting data: where records came from (files, webhook), every record (short-lived), daily
aggregates (kept for good), campaigns and each tenant's suppression list.

Unique-key columns use '' rather than NULL, except tenant, whose constraints say NULLS NOT DISTINCT
(Postgres 15+), so ``INSERT ... ON CONFLICT`` upserts always find the existing row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.accounting.classify import HARD_BOUNCE, SOFT_BOUNCE
from ips.models import IPAddress, MtaServer
from tenants.models import Tenant


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


class Campaign(models.Model):
    """A campaign seen in accounting (key from ACCOUNTING_CAMPAIGN_SOURCE); MailWizz sync fills the name."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="campaigns"
    )
    key = models.CharField(max_length=200)
    name = models.CharField(max_length=255, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "key"], nulls_distinct=False, name="campaign_key_unique_per_tenant"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.key


BOUNCES = (HARD_BOUNCE, SOFT_BOUNCE)


class DeliveryEvent(models.Model):
    """One accounting record, kept ACCOUNTING_EVENT_RETENTION_DAYS for drill-down.

    ``fingerprint`` (from the parser) is globally unique: the same record through a file and through the
    webhook, or posted twice, is stored and counted once.

    The table is partitioned by UTC day of ``time_logged`` (campaigns.accounting.partitions, migration
    0012). Its primary key in the database is (id, time_logged), as Postgres requires of a partitioned
    table; Django sees ``id`` alone, which is unique all the same (one sequence). Schema changes here
    are hand-written migrations: no CREATE INDEX CONCURRENTLY on a partitioned table.
    """

    time_logged = models.DateTimeField()
    type = models.CharField(max_length=3)
    outcome = models.CharField(max_length=12)  # campaigns.accounting.classify.OUTCOMES
    # Text, not varchar(n): the importer COPYs records straight in, and a field longer than a limit
    # would refuse the whole batch. It bounds what can be long (dsn_diag, campaign_key) itself.
    rcpt = models.TextField(blank=True)
    rcpt_domain = models.TextField(blank=True)
    orig = models.TextField(blank=True)
    source_ip = models.TextField(blank=True)
    vmta = models.TextField(blank=True)
    dsn_status = models.TextField(blank=True)
    dsn_diag = models.CharField(max_length=500, blank=True)  # truncated
    bounce_cat = models.TextField(blank=True)
    feedback_type = models.TextField(blank=True)
    campaign_key = models.CharField(max_length=200, blank=True)
    # No database-level FK constraints on this table, and no index the pages do not need: each one
    # costs every insert (deferred FK checks run per row at commit), and it takes millions of rows a day.
    # Django still applies on_delete.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    server = models.ForeignKey(
        MtaServer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    ip = models.ForeignKey(
        IPAddress,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    message_id = models.TextField(blank=True)
    job_id = models.TextField(blank=True)
    fingerprint = models.UUIDField()
    # The envelope id (ENVID) the message was sent with: a remote bounce (rb/rs) names it, which credits
    # the bounce to the original message's tenant. Indexed only where present (few senders set one).
    env_id = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["-time_logged", "-pk"]
        constraints = [
            # The de-duplication key. A record's time is part of its fingerprint, so this is as unique
            # as the fingerprint alone, but new rows land at the right end of the index (records come
            # roughly in time order) instead of on a random page, and it serves time-range queries.
            models.UniqueConstraint(
                fields=["time_logged", "fingerprint"], name="event_time_fingerprint_unique"
            )
        ]
        indexes = [
            # The bounce explorer's latest bounces of a period, of a category or of a tenant (partial:
            # bounces are a tenth of the records, so these cost the import little).
            models.Index(
                fields=["time_logged"], condition=models.Q(outcome__in=BOUNCES), name="event_bounce_time"
            ),
            models.Index(
                fields=["bounce_cat", "time_logged"],
                condition=models.Q(outcome__in=BOUNCES),
                name="event_bounce_cat",
            ),
            models.Index(
                fields=["tenant", "time_logged"],
                condition=models.Q(outcome__in=BOUNCES),
                name="event_bounce_tenant",
            ),
            # Message search by address: every event of a recipient, newest first, whoever's tenant.
            models.Index(fields=["rcpt", "time_logged"], name="event_rcpt_time"),
            # Message search by IP, recipient domain and campaign, newest first; the reply rules' look at
            # a batch's sending IPs over a short time range (warmup.reply_rules). Each ends with ``id``:
            # the search orders by (time_logged, id) and counts up to SEARCH_COUNT_CAP rows, so the index
            # gives the order without a sort and the count is an index-only scan (no heap page per row).
            # Operators search without a tenant condition: these lead with what is searched for.
            models.Index(fields=["source_ip", "time_logged", "id"], name="event_ip_time_id"),
            models.Index(fields=["rcpt_domain", "time_logged", "id"], name="event_domain_time_id"),
            # A campaign is one tenant's, so a tenant's search by campaign walks only its own rows; the
            # tenant column rides along so that scope check needs no heap page either.
            models.Index(
                fields=["campaign", "time_logged", "id"], include=["tenant"], name="event_campaign_time_id"
            ),
            # A tenant's search by recipient domain or sending IP: led by the tenant, so the scope is part
            # of the range scan. Led by the domain instead, a tenant among a hundred walked a hundred
            # other tenants' gmail.com rows for each of its own (the p95 of issue 20).
            models.Index(fields=["tenant", "rcpt_domain", "time_logged", "id"], name="event_tenant_domain"),
            models.Index(fields=["tenant", "source_ip", "time_logged", "id"], name="event_tenant_ip"),
            models.Index(fields=["env_id"], condition=~models.Q(env_id=""), name="event_env_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.rcpt} {self.time_logged:%Y-%m-%d %H:%M:%S}"


class DailyStat(models.Model):
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
    delivered = models.BigIntegerField(default=0)
    hard_bounces = models.BigIntegerField(default=0)
    soft_bounces = models.BigIntegerField(default=0)
    transient = models.BigIntegerField(default=0)
    complaints = models.BigIntegerField(default=0)
    received = models.BigIntegerField(default=0)
    other = models.BigIntegerField(default=0)
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


class DailyTenantStat(models.Model):
    """DailyStat summed per UTC day and tenant, for pages that look at the whole fleet or a whole tenant.

    Kept by a Postgres trigger on DailyStat (migration 0006), so every way of writing DailyStat (the
    importer's upserts, COPY, the ORM) keeps it exact without knowing it exists. The tenant is a bare id:
    when a tenant is deleted its DailyStat rows go, the trigger zeroes these, and nothing must block that.
    """

    day = models.DateField()
    tenant_id = models.BigIntegerField(null=True, blank=True)
    delivered = models.BigIntegerField(default=0)
    hard_bounces = models.BigIntegerField(default=0)
    soft_bounces = models.BigIntegerField(default=0)
    transient = models.BigIntegerField(default=0)
    complaints = models.BigIntegerField(default=0)
    received = models.BigIntegerField(default=0)
    other = models.BigIntegerField(default=0)
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


class AccountingCounter(models.Model):
    """Monotonic totals for /metrics (``imported:d``, ``rejected`` ...): one cheap read, no big scans."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


from campaigns.models_enforcement import *  # noqa: E402,F403
