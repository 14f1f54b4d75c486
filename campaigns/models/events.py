"""Campaigns and every delivery record (short-lived: kept for the retention window)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from campaigns.accounting.classify import HARD_BOUNCE, SOFT_BOUNCE
from ips.models import IPAddress, MtaServer
from tenants.models import Tenant


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

# Parts of a diagnostic that differ per message (addresses, IPs, queue ids, long numbers), so the same
# rejection groups together; enhanced status codes such as 5.1.1 and reply codes such as 550 are kept.
DIAG_VARIABLE = r"[^\s<>()\[\];:,]+@[^\s<>()\[\];:,]+|\d{1,3}(\.\d{1,3}){3}|\m[0-9A-Fa-f]{8,}\M|\d{4,}"


def diag_text() -> models.Func:
    """A bounce's diagnostic with its variable parts replaced by "…" (the bounce explorer's groups).

    The bounce indexes below hold it, so the explorer reads it from them instead of running the
    regular expression over thousands of texts per page: the query must use this same expression."""
    return models.Func(
        models.F("dsn_diag"),
        models.Value(DIAG_VARIABLE),
        models.Value("…"),
        models.Value("g"),
        function="REGEXP_REPLACE",
        output_field=models.TextField(),
    )


def _unconstrained_fk[M: models.Model](
    to: type[M], *, on_delete: Callable[..., None], related_name: str = "+"
) -> models.ForeignKey[M | None, M | None]:
    """An optional reference with neither a database constraint nor an index (see DeliveryEvent)."""
    return models.ForeignKey(
        to,
        on_delete=on_delete,
        null=True,
        blank=True,
        related_name=related_name,
        db_index=False,
        db_constraint=False,
    )


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
    campaign = _unconstrained_fk(Campaign, on_delete=models.SET_NULL, related_name="events")
    tenant = _unconstrained_fk(Tenant, on_delete=models.CASCADE)
    server = _unconstrained_fk(MtaServer, on_delete=models.SET_NULL)
    ip = _unconstrained_fk(IPAddress, on_delete=models.SET_NULL)
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
            # bounces are a tenth of the records, so these cost the import little). Each holds what its
            # diagnostics table reads (the normalised text, and the diagnostic itself, without which
            # PostgreSQL does not plan an index-only scan of an expression: "Index-Only Scans and
            # Covering Indexes", https://www.postgresql.org/docs/15/indexes-index-only-scans.html), so the
            # latest few thousand bounces are an index-only range scan, with no heap page and no regular
            # expression per row.
            models.Index(
                models.F("time_logged"),
                diag_text(),
                include=["dsn_diag", "outcome", "bounce_cat", "rcpt", "rcpt_domain"],
                condition=models.Q(outcome__in=BOUNCES),
                name="event_bounce_time_diag",
            ),
            models.Index(
                models.F("bounce_cat"),
                models.F("time_logged"),
                diag_text(),
                include=["dsn_diag", "outcome", "rcpt", "rcpt_domain"],
                condition=models.Q(outcome__in=BOUNCES),
                name="event_bounce_cat_diag",
            ),
            models.Index(
                models.F("tenant"),
                models.F("time_logged"),
                diag_text(),
                include=["dsn_diag", "outcome", "bounce_cat", "rcpt", "rcpt_domain"],
                condition=models.Q(outcome__in=BOUNCES),
                name="event_bounce_tenant_diag",
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
