"""Accounting import: records from files, directories and webhook bodies into events, daily stats,
campaigns and suppressions, exactly once.

Each batch is one transaction. The stage builder (campaigns.accounting.stage) turns records into COPY
rows; event ids are reserved from the sequence, the rows are COPYed straight into the event table, and
one statement (import_sql.INGEST_SQL) aggregates exactly those ids into daily stats and suppressions
(the daily-stat trigger keeps the tenant rollup). The same transaction moves the source's offset and
counters, so a crash loses nothing and counts nothing twice (the next run resumes from the committed
offset). A record that is already stored, sent twice or through both the file and the webhook, makes
the (time_logged, fingerprint) unique index refuse the COPY; that batch goes through a stage table and
ON CONFLICT DO NOTHING instead, so it is counted once. File imports write each batch from a second
thread while the next one is parsed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import ipaddress
import json
import logging
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, cast

import psycopg
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.accounting import import_sql as sql
from campaigns.accounting.classify import DEFAULT_HARD_CATEGORIES
from campaigns.accounting.parser import (
    BodyError,
    HeaderError,
    HeldRecord,
    JsonArrayItems,
    RowError,
    RowResult,
    iter_object_stage,
    iter_rows,
    open_accounting,
    parse_json_array,
    parse_ndjson,
)
from campaigns.accounting.partitions import event_partitions_prune
from campaigns.accounting.stage import (
    CAMPAIGN_ID,
    CAMPAIGN_KEY,
    COLUMN,
    ENV_ID,
    NULL,
    ORIG,
    ORIGIN_TYPES,
    RCPT,
    TENANT_ID,
    TIME_LOGGED,
    TYPE,
    StageContext,
    copy_data,
)
from campaigns.models import (
    AccountingFile,
    Campaign,
    ImportRejection,
)
from campaigns.signals import accounting_batch_imported
from domains.models import SendingDomain
from ips.models import IPAddress, MtaServer
from tenants.models import Tenant

__all__ = [
    "ERRORS_IN_RESULT",
    "REJECTIONS_KEPT_PER_FILE",
    "BodyError",
    "ImportConflict",
    "ImportResult",
    "accounting_events_prune",
    "accounting_import_body",
    "accounting_import_dir",
    "accounting_import_path",
    "accounting_reingest_record",
    "csv_header_line",
]

log = logging.getLogger(__name__)

REJECTIONS_KEPT_PER_FILE = 100_000
ERRORS_IN_RESULT = 100
BATCH_SIZE = 10_000
HEAD_BYTES = 1024
SYSTEM_ACTOR = "system: accounting import"
# Campaigns seen within this many days start each import with their ids known (at most this many).
CAMPAIGN_IDS_DAYS = 14
CAMPAIGN_IDS_MAX = 50_000

_ACCOUNTING_SUFFIXES = (".csv", ".csv.gz", ".gz")


class ImportConflict(RuntimeError):
    """Another import moved this file's offset while we were importing it; ours was rolled back."""


@dataclass
class ImportResult:
    """Totals of one import (a file, a directory run, a webhook body or a whole command)."""

    read: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    held: int = 0  # valid records sent from another server's IP, kept aside (ImportRejection mismatch)
    by_type: Counter = field(default_factory=Counter)
    by_feedback: Counter = field(default_factory=Counter)  # f records by feedbackType
    left_waiting: int = 0  # last lines without newline left for the next import (PMTA still writing)
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: int = 0
    failed_files: list[dict[str, str]] = field(default_factory=list)
    suppressed: int = 0
    files: int = 0

    def add_error(self, file: str, line: int, reason: str) -> None:
        if len(self.errors) < ERRORS_IN_RESULT:
            self.errors.append({"file": file, "line": line, "reason": reason})
        else:
            self.errors_truncated += 1

    def merge(self, other: ImportResult) -> None:
        self.read += other.read
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.held += other.held
        self.left_waiting += other.left_waiting
        self.by_feedback.update(other.by_feedback)
        self.suppressed += other.suppressed
        self.files += other.files
        self.by_type.update(other.by_type)
        for error in other.errors:
            self.add_error(error["file"], error["line"], error["reason"])
        self.errors_truncated += other.errors_truncated
        self.failed_files.extend(other.failed_files)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "by_type": dict(sorted(self.by_type.items())),
            "errors": self.errors,
        }
        if self.held:
            data["held"] = self.held
        if self.by_feedback:
            data["by_feedback"] = dict(sorted(self.by_feedback.items()))
        if self.left_waiting:
            data["left_waiting"] = self.left_waiting
        if self.errors_truncated:
            data["errors_truncated"] = self.errors_truncated
        if self.failed_files:
            data["failed_files"] = self.failed_files
        return data


# --- configuration ---------------------------------------------------------------------------------


def hard_categories() -> frozenset[str]:
    configured = settings.ACCOUNTING_HARD_CATEGORIES
    if not configured:
        return DEFAULT_HARD_CATEGORIES
    return frozenset(name.strip().lower() for name in configured if name.strip())


def campaign_source() -> str:
    """The configured ACCOUNTING_CAMPAIGN_SOURCE (StageContext rejects a bad one before any record)."""
    return settings.ACCOUNTING_CAMPAIGN_SOURCE or "jobId"


# --- the IP map: source IP -> (ip id, tenant id, server id) -----------------------------------------


class _IPMap:
    """Sending IP -> (ip id, tenant id, server id) as COPY text ('' for NULL).

    With ``server_id`` (the server whose token posted the records, or ``--server`` for a file) every
    record belongs to that server: one whose sending IP is another server's is held aside (HeldRecord),
    never credited to that IP's tenant. Without it (a file with no server named) the IP's own server
    and tenant are taken. An address that is not an IP rejects its record.
    """

    __slots__ = ("_complete", "_held", "_map", "_names", "_server_id", "_strict")

    def __init__(self, server_id: int | None, *, preload: bool) -> None:
        """``preload``: read every IP up front (a file); otherwise the sending server's IPs, and any
        other address when it comes (a webhook body names a few of a fleet's thousands)."""
        self._strict = server_id is not None
        self._server_id = "" if server_id is None else str(server_id)
        self._map: dict[str, tuple[str, str, str]] = {}
        self._held: dict[str, str] = {}  # address -> the reason its records are held aside
        self._names: dict[str, str] = {}
        self._complete = preload
        if preload:
            self._load(IPAddress.objects.all())
        elif server_id is not None:
            self._load(IPAddress.objects.filter(server_id=server_id))

    def _load(self, ips: Any) -> None:
        for ip_id, address, tenant_id, ip_server_id, server_name in ips.values_list(
            "id", "address", "pool__tenant_id", "server_id", "server__name"
        ):
            if self._strict and str(ip_server_id) != self._server_id:
                self._held[address] = self._mismatch(address, server_name)
            else:
                self._map[address] = (str(ip_id), _text(tenant_id), _text(ip_server_id))

    def _mismatch(self, address: str, owner: str) -> str:
        if "" not in self._names:
            self._names[""] = (
                MtaServer.objects.filter(pk=self._server_id).values_list("name", flat=True).first() or "?"
            )
        sender = self._names[""]
        return f"dlvSourceIp {address} belongs to server {owner}, not to {sender} that sent the record"

    def get(self, address: str) -> tuple[str, str, str]:
        found = self._map.get(address)
        if found is None:
            held = self._held.get(address)
            if held is not None:
                raise HeldRecord(held)
            if not address:
                found = self._map[""] = ("", "", self._server_id)
                return found
            # PMTA may write an IPv6 address in another form than the one stored; normalise once.
            try:
                normal = ipaddress.ip_address(address.strip()).compressed
            except ValueError:
                raise RowError(f"dlvSourceIp {address[:60]!r} is not an IP address") from None
            if not self._complete:
                self._load(IPAddress.objects.filter(address=normal))  # stored normalised
            found = self._map.get(normal)
            held = self._held.get(normal)
            if held is not None:
                self._held[address] = held
                raise HeldRecord(held)
            if found is None:
                found = ("", "", self._server_id)
            self._map[address] = found
        return found


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _campaign_ids() -> dict[tuple[str, str], str]:
    """Campaign ids by (tenant id text, key) for the stage builder, of campaigns seen lately.

    Only a head start: a key not in it is looked up (or created) by the batch that meets it.
    """
    since = timezone.now() - timedelta(days=CAMPAIGN_IDS_DAYS)
    return {
        (_text(tenant_id), key): str(pk)
        for pk, tenant_id, key in Campaign.objects.filter(last_seen__gte=since).values_list(
            "pk", "tenant_id", "key"
        )[:CAMPAIGN_IDS_MAX]
    }


def _stage_context(server_id: int | None, *, whole_fleet: bool) -> StageContext:
    """``whole_fleet``: preload every IP and recent campaign (a file); else look up what comes."""
    return StageContext(
        ip_ids=_IPMap(server_id, preload=whole_fleet).get,
        campaign_ids=_campaign_ids() if whole_fleet else {},
        hard_categories=hard_categories(),
        campaign_source=campaign_source(),
    )


# --- the batch writer ------------------------------------------------------------------------------


class Rejection(NamedTuple):
    """A record that is not stored: where it was, why, its bytes and the CSV header to read them with."""

    line: int
    reason: str
    raw: bytes
    kind: str
    header: list[str]


@dataclass
class _Batch:
    rows: list[tuple] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    read: int = 0
    missing_campaigns: set[tuple[str, str]] = field(default_factory=set)


def _a_time_per_campaign(rows: list[tuple], wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """One record time per wanted (tenant, campaign key): a new campaign's first and last seen until
    the batch has committed and CAMPAIGN_SEEN widens them to the batch's real first and last."""
    times: dict[tuple[str, str], str] = {}
    for row in rows:
        pair = (row[TENANT_ID], row[CAMPAIGN_KEY])
        if pair in wanted and pair not in times:
            times[pair] = row[TIME_LOGGED]
    return times


def _credit_to_origin(
    rows: list[tuple], missing: set[tuple[str, str]], campaign_ids: dict[tuple[str, str], str]
) -> list[tuple]:
    """Remote bounces and statuses (rb/rs: no sending IP, UG5 11.2.7) and f records whose IP named no
    tenant, credited to the tenant of the message they are about. Tried in this order:

    1. ``envId``: the latest d/b/t event sent with the same envelope id;
    2. the latest d/b/t event to the same ``rcpt`` from the same ``orig`` (with no ``orig``: the same
       ``rcpt``, when only one tenant has mailed it);
    3. the ``orig`` (return-path) domain: a tenant's sending domain or its return-path domain, when
       exactly one tenant has it.

    Found through 1 or 2, a record without a campaign key of its own takes the original's campaign.
    A record none of them credits stays without tenant (and without campaign), as before. A hard ``rb``
    credited this way suppresses its address and goes to MailWizz like a ``b``.
    """
    orphans = [i for i, row in enumerate(rows) if not row[TENANT_ID] and row[TYPE] in ORIGIN_TYPES]
    if not orphans:
        return rows
    origin: dict[int, tuple[str, str, str]] = {}  # row index -> (tenant id, campaign key, campaign id)
    with connection.cursor() as cursor:
        env_ids = sorted({rows[i][ENV_ID] for i in orphans if rows[i][ENV_ID]})
        if env_ids:
            cursor.execute(sql.ORIGIN_BY_ENV_ID, [env_ids])
            by_env = {env: (_text(tenant), key, _text(campaign)) for env, tenant, key, campaign in cursor}
            for i in orphans:
                if rows[i][ENV_ID] in by_env:
                    origin[i] = by_env[rows[i][ENV_ID]]
        left = [i for i in orphans if i not in origin and rows[i][RCPT]]
        if left:
            tenants = list(Tenant.objects.values_list("pk", flat=True))
            cursor.execute(sql.ORIGIN_BY_RCPT, [tenants, sorted({rows[i][RCPT] for i in left})])
            by_pair: dict[tuple[str, str], tuple[str, str, str]] = {}
            by_rcpt: dict[str, set[tuple[str, str, str]]] = {}
            for rcpt, orig, tenant, key, campaign in cursor:
                original = (_text(tenant), key, _text(campaign))
                by_pair[(rcpt, orig.lower())] = original
                by_rcpt.setdefault(rcpt, set()).add(original)
            for i in left:
                row = rows[i]
                found: tuple[str, str, str] | None
                if row[ORIG]:
                    found = by_pair.get((row[RCPT], row[ORIG].lower()))
                else:
                    candidates = by_rcpt.get(row[RCPT], set())
                    found = next(iter(candidates)) if len({c[0] for c in candidates}) == 1 else None
                if found:
                    origin[i] = found
    left = [i for i in orphans if i not in origin and "@" in rows[i][ORIG]]
    if left:
        domains = {rows[i][ORIG].rpartition("@")[2].lower() for i in left}
        owners: dict[str, set[int]] = {}
        for name, return_path, tenant in SendingDomain.objects.filter(
            Q(name__in=domains) | Q(return_path_domain__in=domains)
        ).values_list("name", "return_path_domain", "tenant_id"):
            for domain in {name.lower(), return_path.lower()} & domains:
                owners.setdefault(domain, set()).add(tenant)
        for i in left:
            tenants_of = owners.get(rows[i][ORIG].rpartition("@")[2].lower(), set())
            if len(tenants_of) == 1:
                origin[i] = (str(next(iter(tenants_of))), "", "")
    if not origin:
        return rows
    credited = list(rows)
    for i, (tenant, origin_key, origin_campaign) in origin.items():
        cells = list(credited[i])
        cells[TENANT_ID] = tenant
        if cells[CAMPAIGN_KEY]:
            cells[CAMPAIGN_ID] = campaign_ids.get((tenant, cells[CAMPAIGN_KEY]), NULL)
            if not cells[CAMPAIGN_ID]:
                missing.add((tenant, cells[CAMPAIGN_KEY]))
        elif origin_key:
            cells[CAMPAIGN_KEY], cells[CAMPAIGN_ID] = origin_key, origin_campaign
        credited[i] = tuple(cells)
    return credited


class _Writer:
    """Writes batches for one source (AccountingFile row): the single-transaction unit of exactly-once."""

    def __init__(
        self,
        source: AccountingFile,
        context: StageContext,
        *,
        check_offset: bool,
        data_format: str = "csv",
        keep_rejections: bool = True,
    ) -> None:
        self.source = source
        self.keep_rejections = keep_rejections
        self.context = context
        self.check_offset = check_offset
        self.data_format = data_format
        self.committed_offset = source.offset
        self.rejections_stored = source.rejected  # approximation of stored rows, for the cap
        self._sequence: str | None = None

    def write(
        self, batch: _Batch, *, offset: int, lines: int, header: list[str], status: str, result: ImportResult
    ) -> None:
        # Campaigns met for the first time are created (and committed) before the batch's transaction:
        # their rows would otherwise stay locked through it, behind every other post of the campaign.
        batch.rows = _credit_to_origin(batch.rows, batch.missing_campaigns, self.context.campaign_ids)
        rows = self._with_campaign_ids(batch)
        for attempt in range(4):
            try:
                with transaction.atomic():
                    counts = self._write_once(rows, batch, offset, lines, header, status)
                break
            except ImportConflict:
                raise
            except OperationalError as exc:
                # deadlock / serialization failure between concurrent importers: retry the batch
                if attempt == 3 or getattr(exc.__cause__, "sqlstate", "") not in ("40P01", "40001"):
                    raise
        by_type, by_feedback, suppressed, seen, refused, failures = counts
        # Outside the batch's transaction for the same reason. A crash just before this leaves first/last
        # seen behind until the campaign's next batch; the counts themselves are already exact.
        if seen:
            with connection.cursor() as cursor:
                cursor.execute(sql.CAMPAIGN_SEEN, [list(column) for column in zip(*seen, strict=True)])
        _announce(failures)
        imported = sum(by_type.values())
        rejections = [*batch.rejections, *refused]
        held = sum(1 for rejection in rejections if rejection.kind == ImportRejection.Kind.MISMATCH)
        result.read += batch.read
        result.imported += imported
        result.duplicates += len(batch.rows) - imported - len(refused)
        result.rejected += len(rejections) - held
        result.held += held
        result.by_type.update(by_type)
        result.by_feedback.update(by_feedback)
        result.suppressed += suppressed
        for rejection in rejections:
            result.add_error(self.source.path, rejection.line, rejection.reason)
        self.committed_offset = offset

    def _with_campaign_ids(self, batch: _Batch) -> list[tuple]:
        """The batch's rows, with the ids of campaigns the stage builder did not know filled in (found,
        or created)."""
        missing = batch.missing_campaigns
        if not missing:
            return batch.rows
        found: dict[tuple[str, str], str] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in (sql.CAMPAIGN_FIND, sql.CAMPAIGN_CREATE, sql.CAMPAIGN_FIND):
                wanted = sorted(missing - found.keys())
                if not wanted:
                    break
                params: list[Any] = [
                    [int(tenant) if tenant else None for tenant, _ in wanted],
                    [key for _, key in wanted],
                ]
                if statement is sql.CAMPAIGN_CREATE:
                    times = _a_time_per_campaign(batch.rows, set(wanted))
                    seen = [times[pair] for pair in wanted]
                    params += [[""] * len(wanted), seen, seen]
                cursor.execute(statement, params)
                for pk, tenant_id, key in cursor.fetchall():
                    found[(_text(tenant_id), key)] = str(pk)
        self.context.campaign_ids.update(found)
        return [
            row
            if row[CAMPAIGN_ID] or not row[CAMPAIGN_KEY]
            else (*row[:CAMPAIGN_ID], found[(row[TENANT_ID], row[CAMPAIGN_KEY])], *row[CAMPAIGN_ID + 1 :])
            for row in batch.rows
        ]

    def _event_ids(self, cursor: Any, count: int) -> tuple[int, int, list[int] | None]:
        if self._sequence is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [sql.EVENT])
            self._sequence = cursor.fetchone()[0]
        cursor.execute(sql.RESERVE_IDS, {"seq": self._sequence, "n": count})
        return cursor.fetchone()

    def _insert_events(self, cursor: Any, rows: list[tuple]) -> tuple[int, int, list[int] | None, list]:
        """COPY the rows in; returns the reserved id range (lo, hi, scattered ids or None) and the
        rejections of rows the database itself refused (none unless a row is beyond what the checks
        before it foresaw: each is then rejected alone, and the rest of the batch goes in)."""
        lo, hi, scattered = self._event_ids(cursor, len(rows))
        ids = scattered or range(lo, hi + 1)
        refused = self._copy(cursor, rows, ids)
        return lo, hi, scattered, [self._refusal(row, reason) for row, reason in refused]

    def _copy(self, cursor: Any, rows: list[tuple], ids: range | list[int]) -> list[tuple[tuple, str]]:
        data = copy_data(rows, ids)
        try:
            with transaction.atomic(), cursor.cursor.copy(sql.COPY_EVENTS) as copy:
                copy.write(data)
            return []
        except (IntegrityError, psycopg.errors.UniqueViolation):
            # Some are stored already: through the stage table, skipping those.
            try:
                with transaction.atomic():
                    cursor.execute(sql.STAGE_DDL)
                    cursor.execute(f"TRUNCATE {sql.STAGE}")
                    with cursor.cursor.copy(sql.COPY_STAGE) as copy:
                        copy.write(data)
                    cursor.execute(sql.INSERT_STAGED)
                return []
            except _REFUSED as exc:
                refusal = exc
        except _REFUSED as exc:
            refusal = exc
        if len(rows) == 1:
            return [(rows[0], _refusal_reason(refusal))]
        # Halve until the refused rows stand alone: about 2 log2(n) COPYs for one bad row in n.
        half = len(rows) // 2
        return self._copy(cursor, rows[:half], ids[:half]) + self._copy(cursor, rows[half:], ids[half:])

    def _refusal(self, row: tuple, reason: str) -> Rejection:
        """A rejection for a staged row: its values under their PMTA names, as JSON (the original
        bytes are no longer at hand at this point)."""
        record = {name: row[COLUMN[column]] for column, name in _PMTA_NAMES.items()}
        data = json.dumps({k: v for k, v in record.items() if v}, ensure_ascii=False)
        return Rejection(0, reason, data.encode(errors="surrogateescape"), ImportRejection.Kind.REJECTED, [])

    def _write_once(
        self, rows: list[tuple], batch: _Batch, offset: int, lines: int, header: list[str], status: str
    ) -> tuple[Counter, Counter, int, list[tuple], list, dict[str, tuple[datetime, datetime]]]:
        by_type: Counter = Counter()
        by_feedback: Counter = Counter()
        suppressed = 0
        seen: list[tuple] = []
        refused: list = []
        failures: dict[str, tuple[datetime, datetime]] = {}
        with connection.cursor() as cursor:
            if rows:
                lo, hi, scattered, refused = self._insert_events(cursor, rows)
                times = [row[TIME_LOGGED] for row in rows]  # UTC ISO texts: they sort as times do
                cursor.execute(
                    sql.INGEST_SCATTERED_SQL if scattered else sql.INGEST_SQL,
                    {
                        "lo": lo,
                        "hi": hi,
                        "ids": scattered,
                        "actor": SYSTEM_ACTOR,
                        "first": min(times),
                        "last": max(times),
                    },
                )
                for kind, name, count, campaign_id, first_seen, last_seen in cursor.fetchall():
                    if kind == "type":
                        by_type[name] = count
                    elif kind == "feedback":
                        by_feedback[name] = count
                    elif kind == "supp":
                        suppressed = count
                    elif kind == "seen":
                        seen.append((campaign_id, first_seen, last_seen))
                    elif kind == "fail":
                        failures[name] = (first_seen, last_seen)
            imported = sum(by_type.values())
            rejections = [*batch.rejections, *refused]
            held = sum(1 for rejection in rejections if rejection.kind == ImportRejection.Kind.MISMATCH)
            keep = max(0, REJECTIONS_KEPT_PER_FILE - self.rejections_stored) if self.keep_rejections else 0
            if rejections and keep:
                self._keep_rejections(cursor, rejections[:keep])
            cursor.execute(
                sql.FILE_UPDATE,
                {
                    "offset": offset,
                    "lines": lines,
                    "header": json.dumps(header),
                    "status": status,
                    "read": batch.read,
                    "imported": imported,
                    "duplicates": len(rows) - imported - len(refused),
                    "rejected": len(rejections) - held,
                    "held": held,
                    "by_type": json.dumps(by_type),
                    "id": self.source.pk,
                    "check": self.committed_offset if self.check_offset else None,
                },
            )
            if cursor.rowcount != 1:
                raise ImportConflict(f"{self.source.path}: imported concurrently by another run")
            counters = {f"imported:{name}": count for name, count in by_type.items()}
            counters.update(
                read=batch.read,
                duplicates=len(rows) - imported - len(refused),
                rejected=len(rejections) - held,
                held=held,
            )
            counters = {name: value for name, value in counters.items() if value}
            if counters:
                names = sorted(counters)
                cursor.execute(sql.COUNTER_UPSERT, [names, [counters[name] for name in names]])
        self.rejections_stored += len(rejections)
        return by_type, by_feedback, suppressed, sorted(seen), refused, failures

    def _keep_rejections(self, cursor: Any, rejections: list[Rejection]) -> None:
        now = timezone.now()
        server_id = self.source.server_id
        kept_max = ImportRejection.DATA_KEPT_MAX
        # As Django's own statements do: a failing COPY raises django.db's errors (a DatabaseError is a 503).
        with connection.wrap_database_errors, cursor.cursor.copy(sql.COPY_REJECTIONS) as copy:
            copy.set_types([pg_type for _, pg_type in sql.REJECTION_COLUMNS])
            for line, reason, data, kind, header in rejections:
                copy.write_row(
                    (
                        self.source.pk,
                        server_id,
                        kind,
                        line,
                        reason[:300],
                        data[:500].decode(errors="replace").rstrip("\r\n").replace("\x00", ""),
                        data[:kept_max],
                        len(data),
                        "json" if not header and self.data_format == "csv" else self.data_format,
                        header,  # jsonb: dumped as JSON by psycopg
                        now,
                        "",
                        "",
                    )
                )


# What the database itself may refuse in one row (a value it cannot hold, an index row too big): the
# row is rejected alone. Anything else (connection lost, disk full) fails the batch, to be retried.
_REFUSED = (psycopg.errors.DataError, psycopg.errors.ProgramLimitExceeded)

# Stage columns -> the PMTA field they came from, for a refused row's JSON.
_PMTA_NAMES = {
    "time_logged": "timeLogged",
    "type": "type",
    "rcpt": "rcpt",
    "orig": "orig",
    "source_ip": "dlvSourceIp",
    "vmta": "vmta",
    "dsn_status": "dsnStatus",
    "dsn_diag": "dsnDiag",
    "bounce_cat": "bounceCat",
    "feedback_type": "feedbackType",
    "message_id": "header_Message-Id",
    "job_id": "jobId",
}


def _refusal_reason(exc: Exception) -> str:
    message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return f"the database refused the record: {message}"[:300]


def _announce(failures: dict[str, tuple[datetime, datetime]]) -> None:
    """Tell listeners (warmup's reply rules) which IPs have new failures, and when, once the batch is
    committed. Only new records count: a re-sent one changes no count, so it needs no second look.

    Listeners only enqueue their work; whatever they raise is logged and never fails the import,
    whose records are committed by now.
    """
    if not failures:
        return

    def send() -> None:
        for receiver, error in accounting_batch_imported.send_robust(
            sender=AccountingFile, failures=failures
        ):
            if isinstance(error, Exception):
                log.error("accounting import: listener %r failed", receiver, exc_info=error)

    transaction.on_commit(send)


# --- the record loop -------------------------------------------------------------------------------


class _Pipeline:
    """Writes batches while the caller parses the next one.

    The writer thread spends its time waiting for Postgres (psycopg releases the GIL), so parsing and
    the database work overlap on two cores. It has its own database connection, so it is used only
    outside a transaction: inside one (an atomic block, a test), batches are written inline, in the
    caller's transaction. At most one batch waits, which bounds memory.
    """

    def __init__(self, writer: _Writer, result: ImportResult, *, threaded: bool) -> None:
        self.writer = writer
        self.result = result
        self.threaded = threaded and not connection.in_atomic_block
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._raised = False
        self._thread: threading.Thread | None = None

    def submit(self, batch: _Batch, *, offset: int, lines: int, header: list[str], status: str) -> None:
        job = (batch, {"offset": offset, "lines": lines, "header": header, "status": status})
        if not self.threaded:
            self._write(job)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="accounting-writer", daemon=True)
            self._thread.start()
        self._raise_if_failed()
        self._queue.put(job)

    def finish(self) -> None:
        """Wait for every submitted batch to be committed; re-raise what the writer thread raised."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise_if_failed()

    def _write(self, job: tuple[_Batch, dict[str, Any]]) -> None:
        batch, where = job
        self.writer.write(batch, result=self.result, **where)

    def _run(self) -> None:
        try:
            while (job := self._queue.get()) is not None:
                # After a failure nothing more is written: a later batch would move the file's offset
                # past the failed one and lose it. The caller stops at its next submit().
                if self._error is None:
                    try:
                        self._write(job)
                    except BaseException as exc:
                        self._error = exc
        finally:
            connection.close()  # this thread's own connection

    def _raise_if_failed(self) -> None:
        if self._error is not None and not self._raised:
            self._raised = True
            raise self._error


def _consume(
    rows: Iterable[tuple | RowResult],
    *,
    writer: _Writer,
    result: ImportResult,
    position: Callable[[], tuple[int, int, list[str]]],
    status: str,
    batch_size: int = BATCH_SIZE,
    raw_for: Callable[[RowResult], bytes] | None = None,
    header_now: Callable[[], list[str]] = list,
    progress: Callable[[ImportResult], None] | None = None,
    threaded: bool = False,
) -> None:
    """Turn staged rows (and rejected RowResults) into batches and write them. ``position()`` gives
    (offset, lines, header) at the current point of the stream: what a batch commits as the place to
    resume. A rejected record is kept with its bytes (``raw_for``, else the reader's) and, for CSV, the
    header it is read by (``header_now``)."""
    pipeline = _Pipeline(writer, result, threaded=threaded)
    take_missing = writer.context.take_missing
    submitted = writer.committed_offset
    try:
        batch = _Batch()
        append = batch.rows.append
        read = 0
        for item in rows:
            read += 1
            if item.__class__ is tuple:  # a staged row (the cheapest test in this loop); else a RowResult
                append(item)
            else:
                bad = cast(RowResult, item)
                raw = raw_for(bad) if raw_for else bad.raw
                batch.rejections.append(
                    Rejection(bad.line, bad.error or "invalid", raw, bad.kind, header_now())
                )
            if read >= batch_size:
                offset, lines, header = position()
                batch.read, batch.missing_campaigns = read, take_missing()
                # Not the final status yet: a crash from here on must leave the file to be resumed.
                pipeline.submit(
                    batch, offset=offset, lines=lines, header=header, status=AccountingFile.Status.IMPORTING
                )
                submitted = offset
                if progress:
                    progress(result)
                batch = _Batch()
                append = batch.rows.append
                read = 0
        offset, lines, header = position()
        batch.read, batch.missing_campaigns = read, take_missing()
        if read or offset != submitted:
            pipeline.submit(batch, offset=offset, lines=lines, header=header, status=status)
    finally:
        pipeline.finish()
    if progress:
        progress(result)


# --- files -----------------------------------------------------------------------------------------


def _head(path: Path, length: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(length)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _find_source(path: Path, stat: os.stat_result, head: bytes, server: MtaServer | None) -> AccountingFile:
    """The AccountingFile this file continues, or a new one (rotated, replaced or never seen)."""
    resolved = str(path)
    for candidate in AccountingFile.objects.filter(kind=AccountingFile.Kind.FILE, path=resolved).order_by(
        "-pk"
    )[:1]:
        if candidate.head_len <= len(head) and _digest(head[: candidate.head_len]) == candidate.head_digest:
            if not candidate.compressed and stat.st_size < candidate.offset:
                break  # same start but shorter than what we read: rewritten
            return candidate
    # Renamed (PMTA's move-to, or acct.csv -> acct-YYYY-MM-DD-NNNN.csv on the same volume): same inode,
    # same first bytes.
    for candidate in AccountingFile.objects.filter(
        kind=AccountingFile.Kind.FILE, inode=stat.st_ino, head_digest=_digest(head[:HEAD_BYTES])
    ).order_by("-pk")[:1]:
        if candidate.head_len == len(head) and (candidate.compressed or stat.st_size >= candidate.offset):
            candidate.path = resolved
            candidate.save(update_fields=["path"])
            return candidate
    return AccountingFile.objects.create(
        kind=AccountingFile.Kind.FILE,
        path=resolved,
        server=server,
        inode=stat.st_ino,
        size=stat.st_size,
        mtime=datetime.fromtimestamp(stat.st_mtime, UTC),
        head_digest=_digest(head),
        head_len=len(head),
        compressed=head[:2] == b"\x1f\x8b",
    )


def _resume_point(path: Path, source: AccountingFile) -> tuple[int, int]:
    """(offset, lines consumed) to resume a plain file at: the saved offset, or, when a settled file
    ended in a line without newline that was read as final and the file has since grown, the start of
    that line, so the now complete record is read whole (a cut record was rejected, not imported:
    see accounting_import_path)."""
    offset, lines = source.offset, source.lines
    if not offset or source.compressed:
        return offset, lines
    with open(path, "rb") as handle:
        handle.seek(offset - 1)
        if handle.read(1) == b"\n":
            return offset, lines
        start = offset
        while start > 0:
            step = min(start, 1 << 16)
            handle.seek(start - step)
            block = handle.read(step)
            cut = block.rfind(b"\n")
            if cut >= 0:
                return start - step + cut + 1, lines - 1
            start -= step
    return offset, lines


def accounting_import_path(
    *,
    path: str | Path,
    server: MtaServer | None = None,
    final: bool = True,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import one accounting file (plain or gzip) from where the last import of it stopped.

    A last line without its newline is PMTA still writing it: it is left for a later run (the offset
    stays before it) unless the file is ``final`` and has settled (not modified for
    ACCOUNTING_SETTLE_SECONDS, or gzip): a cut record is never imported cut, nor lost.
    ``final=False`` leaves it in any case and marks the file as waiting for more.
    ``progress(done_bytes, total_bytes)`` is called after each batch (on-disk bytes for gzip).
    A file that cannot be read ends up in ``result.failed_files``; bad records in ``result.errors``.
    """
    path = Path(path)
    result = ImportResult(files=1)
    name = str(path)
    try:
        stat = path.stat()
        head = _head(path)
    except OSError as exc:
        result.failed_files.append({"file": name, "reason": exc.strerror or str(exc)})
        return result
    source = _find_source(path, stat, head, server)
    if source.status == AccountingFile.Status.DONE and source.size == stat.st_size:
        return result  # fully imported and unchanged: nothing to read at all
    now = timezone.now()
    source.size = stat.st_size
    source.mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
    source.inode = stat.st_ino
    if source.head_len < len(head):  # grew past the first KB: remember more of it
        source.head_len, source.head_digest = len(head), _digest(head)
    source.started_at = now
    source.last_error = ""
    source.save(
        update_fields=["size", "mtime", "inode", "head_len", "head_digest", "started_at", "last_error"]
    )
    server_id = server.pk if server else source.server_id
    settle = settings.ACCOUNTING_SETTLE_SECONDS
    settled = source.compressed or datetime.now(UTC).timestamp() - stat.st_mtime >= settle
    # Until the read shows there is no unfinished last line, a crash must leave the file to be re-read.
    status = AccountingFile.Status.DONE if final and settled else AccountingFile.Status.WAITING
    try:
        offset, lines = _resume_point(path, source)
        with open_accounting(path) as stream:
            try:
                reader = iter_rows(
                    stream,
                    start_offset=offset,
                    header=source.header if offset and source.header else None,
                    start_line=lines + 1 if offset else None,
                    final=final and settled,
                )
            except HeaderError as exc:
                if exc.incomplete:
                    _set_status(source, AccountingFile.Status.WAITING, "")
                    return result
                raise
            disk = stream.fileobj if isinstance(stream, gzip.GzipFile) else stream

            def report(_result: ImportResult) -> None:
                if progress:
                    progress(disk.tell(), stat.st_size)

            context = _stage_context(server_id, whole_fleet=True)
            _consume(
                reader.stage_rows(context.factory),
                writer=_Writer(source, context, check_offset=True),
                result=result,
                position=lambda: (reader.end_offset, reader.line, reader.header),
                status=status,
                batch_size=batch_size,
                header_now=lambda: reader.header,
                progress=report,
                threaded=True,
            )
            if final and not settled:
                if reader.end_offset < stat.st_size:
                    result.left_waiting = 1
                else:
                    status = AccountingFile.Status.DONE
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as exc:
        # HeaderError is a ValueError; so is a start_offset that no longer fits the file.
        reason = str(exc) or exc.__class__.__name__
        _set_status(source, AccountingFile.Status.FAILED, reason)
        result.failed_files.append({"file": name, "reason": reason})
        return result
    except ImportConflict as exc:
        result.failed_files.append({"file": name, "reason": str(exc)})
        return result
    AccountingFile.objects.filter(pk=source.pk).update(status=status, finished_at=timezone.now())
    return result


def _set_status(source: AccountingFile, status: str, error: str) -> None:
    AccountingFile.objects.filter(pk=source.pk).update(
        status=status, last_error=error[:2000], updated_at=timezone.now(), finished_at=timezone.now()
    )


def _is_accounting_file(path: Path) -> bool:
    return (
        path.is_file() and path.name.lower().endswith(_ACCOUNTING_SUFFIXES) and not path.name.startswith(".")
    )


def accounting_import_dir(
    *, directory: str | Path | None = None, settle_seconds: int | None = None
) -> ImportResult:
    """Import new and grown files in ACCOUNTING_DIR (no-op when unset), oldest first.

    Files modified within ``settle_seconds`` (ACCOUNTING_SETTLE_SECONDS, 300) may still be written by
    PMTA: their unterminated last line waits for the next run. One run at a time (advisory lock).
    """
    directory = directory or settings.ACCOUNTING_DIR
    result = ImportResult()
    if not directory:
        return result
    root = Path(directory)
    if not root.is_dir():
        result.failed_files.append({"file": str(root), "reason": "not a directory"})
        return result
    if settle_seconds is None:
        settle_seconds = settings.ACCOUNTING_SETTLE_SECONDS
    with _advisory_lock("campaigns.accounting_import_dir") as locked:
        if not locked:
            log.info("accounting import: another run is busy with %s", root)
            return result
        files = sorted((p for p in root.iterdir() if _is_accounting_file(p)), key=_mtime_and_name)
        now = datetime.now(UTC).timestamp()
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                continue  # rotated away between listing and now
            if _unchanged(path, stat):
                continue
            final = now - stat.st_mtime >= settle_seconds
            result.merge(accounting_import_path(path=path, final=final))
    return result


def _mtime_and_name(path: Path) -> tuple[float, str]:
    try:
        return path.stat().st_mtime, path.name
    except OSError:  # rotated away since the listing; the loop below skips it
        return 0.0, path.name


def _unchanged(path: Path, stat: os.stat_result) -> bool:
    """Cheap skip for the every-minute run: same size and mtime as the last completed read."""
    source = (
        AccountingFile.objects.filter(kind=AccountingFile.Kind.FILE, path=str(path))
        .only("size", "mtime", "status", "inode")
        .order_by("-pk")
        .first()
    )
    if source is None or source.inode != stat.st_ino or source.size != stat.st_size:
        return False
    if source.status == AccountingFile.Status.DONE:
        return True
    # WAITING: unchanged, but once it has settled it must be re-read as final (its last line).
    mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
    settle = settings.ACCOUNTING_SETTLE_SECONDS
    return (
        source.status == AccountingFile.Status.WAITING
        and source.mtime == mtime
        and timezone.now() - mtime < timedelta(seconds=settle)
    )


class _advisory_lock:
    """A Postgres session advisory lock, taken without waiting."""

    def __init__(self, name: str) -> None:
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.locked = False

    def __enter__(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
            self.locked = bool(cursor.fetchone()[0])
        return self.locked

    def __exit__(self, *exc: object) -> None:
        if self.locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])


# --- webhook bodies --------------------------------------------------------------------------------

_CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
_JSON_TYPES = frozenset({"application/json"})
_NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)


def _webhook_source(server: MtaServer) -> AccountingFile:
    day = timezone.now().astimezone(UTC).date().isoformat()
    path = f"webhook {day}"
    source = AccountingFile.objects.filter(kind=AccountingFile.Kind.WEBHOOK, server=server, path=path).first()
    if source is None:
        try:
            with transaction.atomic():
                source = AccountingFile.objects.create(
                    kind=AccountingFile.Kind.WEBHOOK,
                    server=server,
                    path=path,
                    status=AccountingFile.Status.WAITING,
                    started_at=timezone.now(),
                )
        except IntegrityError:  # a concurrent post created it first
            source = AccountingFile.objects.get(kind=AccountingFile.Kind.WEBHOOK, server=server, path=path)
    return source


def accounting_import_body(
    *, server: MtaServer, body: bytes, content_type: str, batch_size: int = BATCH_SIZE
) -> ImportResult:
    """Import a webhook body (CSV with header, JSON array or NDJSON) sent by ``server``.

    Raises BodyError (-> HTTP 400) when the body as a whole cannot be parsed or the type is unknown.
    """
    return _import_body(
        source=_webhook_source(server),
        server_id=server.pk,
        body=body,
        content_type=content_type,
        batch_size=batch_size,
    )


def _import_body(
    *,
    source: AccountingFile,
    server_id: int | None,
    body: bytes,
    content_type: str,
    batch_size: int = BATCH_SIZE,
    keep_rejections: bool = True,
) -> ImportResult:
    """Records of a body into ``source``, credited to ``server_id`` (None: each IP's own server)."""
    media = content_type.split(";", 1)[0].strip().lower()
    context = _stage_context(server_id, whole_fleet=False)
    header_now: Callable[[], list[str]] = list
    # A refused JSON or NDJSON record is kept as the bytes it came as: cut out of the body only when
    # one is refused, and only that one (good records never pay for it).
    raw_for: Callable[[RowResult], bytes] | None = None
    if media in _CSV_TYPES:
        try:
            reader = iter_rows(io.BytesIO(body), final=True)
        except HeaderError as exc:
            raise BodyError(f"CSV body: {exc}") from None
        rows: Iterable[tuple | RowResult] = reader.stage_rows(context.factory)
        header_now, data_format = (lambda: reader.header), "csv"
    elif media in _JSON_TYPES:
        items = parse_json_array(body)
        rows = iter_object_stage(items, context.factory)
        data_format, raw_for = "json", _json_item_cutter(body, items)
    elif media in _NDJSON_TYPES:
        rows = iter_object_stage(parse_ndjson(body), context.factory)
        data_format, raw_for = "ndjson", _ndjson_line_cutter(body)
    else:
        raise BodyError(
            f"unsupported content type {media or '(none)'!r}: "
            "use text/csv, application/json or application/x-ndjson"
        )
    result = ImportResult(files=1)
    writer = _Writer(
        source, context, check_offset=False, data_format=data_format, keep_rejections=keep_rejections
    )
    _consume(
        rows,
        writer=writer,
        result=result,
        position=lambda: (0, 0, []),
        status=AccountingFile.Status.WAITING,
        batch_size=batch_size,
        raw_for=raw_for,
        header_now=header_now,
    )
    for error in result.errors:
        error["file"] = "webhook"
    return result


# --- re-ingesting kept records ---------------------------------------------------------------------

REINGEST_CONTENT_TYPES = {"csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson"}


def accounting_reingest_record(
    *, rejection: ImportRejection, server: MtaServer | None, by_ip: bool = False
) -> ImportResult:
    """Import one kept record again (after a fix in the code, the inventory or the data), exactly as it
    came, into the day's re-ingest source. ``server`` credits it like that server's webhook would;
    ``by_ip`` credits it to its sending IP's own server and tenant instead (a held mismatch the operator
    accepts). A record refused again is not kept a second time: the result says why.
    """
    data = bytes(rejection.data)
    is_csv = rejection.data_format == ImportRejection.Format.CSV
    body = csv_header_line(rejection.header) + data if is_csv else data
    day = timezone.now().astimezone(UTC).date().isoformat()
    source, _ = AccountingFile.objects.get_or_create(
        kind=AccountingFile.Kind.REINGEST,
        server=None if by_ip else server,
        path=f"re-ingest {day}",
        defaults={"status": AccountingFile.Status.WAITING, "started_at": timezone.now()},
    )
    return _import_body(
        source=source,
        server_id=None if by_ip or server is None else server.pk,
        body=body,
        content_type=REINGEST_CONTENT_TYPES[rejection.data_format],
        keep_rejections=False,
    )


def csv_header_line(header: list[str]) -> bytes:
    """The header line a kept CSV record is read by (RFC 4180 quoting; it is read back, not exported)."""
    quoted = (
        '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\r\n') else name for name in header
    )
    return (",".join(quoted) + "\n").encode()


def _json_item_cutter(body: bytes, items: list[object]) -> Callable[[RowResult], bytes]:
    """A refused record's bytes in a JSON array body (its ``line`` is its item number)."""
    cutter: list[JsonArrayItems] = []

    def raw_for(res: RowResult) -> bytes:
        if not cutter:
            cutter.append(JsonArrayItems(body, items))
        return cutter[0].item(res.line)

    return raw_for


def _ndjson_line_cutter(body: bytes) -> Callable[[RowResult], bytes]:
    """A refused record's bytes in an NDJSON body: its line as sent (item numbers are line numbers)."""
    lines: list[bytes] = []

    def raw_for(res: RowResult) -> bytes:
        if not lines:
            lines.extend(body.split(b"\n"))
        return lines[res.line - 1].rstrip(b"\r") if 0 < res.line <= len(lines) else b""

    return raw_for


# --- retention -------------------------------------------------------------------------------------


def accounting_events_prune(*, days: int | None = None, now: datetime | None = None) -> int:
    """Remove delivery events older than ACCOUNTING_EVENT_RETENTION_DAYS; daily stats stay. Returns count.

    Whole days go as partition drops (campaigns.accounting.partitions); suppressions pointing at a
    pruned event keep their ``detail`` and lose only the link.
    """
    return event_partitions_prune(days=days, now=now).pruned
