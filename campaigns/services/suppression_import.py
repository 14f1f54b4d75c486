"""Suppression CSV imports as background jobs: upload, progress, every bad line reported, a summary.

The page stores the upload as a SuppressionImport and queues ``suppression_import_run`` (a Celery task on
the accounting queue); the job page shows a progress bar until it is done. The work is chunked: each
chunk COPYs its addresses into a temporary table and inserts them with ``ON CONFLICT DO NOTHING`` (an
address already on the list, or added by the accounting importer meanwhile, is counted as "already"),
in the same transaction that moves the job's checkpoint and counts, claimed by a run token so a worker
presumed dead cannot write over its successor. ``suppression_import_csv`` (services.suppression) runs the
same job inline, for the API and the command line.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Suppression, SuppressionImport
from campaigns.services.suppression import (
    IMPORT_MAX_ERRORS,
    ImportReport,
    LineError,
    decode_upload,
    iter_suppression_lines,
)
from core.audit import Author, acting_for_request, audit_record, author_parts, request_context
from tenants.models import Tenant

__all__ = [
    "IMPORT_CHUNK",
    "report_of",
    "suppression_import_create",
    "suppression_import_run",
    "suppression_imports_requeue_stale",
]

IMPORT_CHUNK = 50_000  # data lines per committed chunk
STALE_AFTER = timedelta(minutes=10)  # a running job whose heartbeat is older was orphaned by its worker

_SUPPRESSION = Suppression._meta.db_table
_STAGE = "campaigns_supp_import_stage"
_INSERT = f"""
INSERT INTO {_SUPPRESSION} (tenant_id, email, reason, source_event_id, detail, created_at, created_by)
SELECT %(tenant)s, email, %(reason)s, NULL, left(coalesce(nullif(detail, ''), %(detail)s), 300), now(), %(by)s
FROM {_STAGE}
ON CONFLICT ON CONSTRAINT suppression_unique_email DO NOTHING
"""  # noqa: S608


def suppression_import_create(
    *, tenant: Tenant, data: bytes, by: Author, filename: str = ""
) -> SuppressionImport:
    """Store an upload as a new job; the caller queues the run once this commits. The request's client
    address and API token label are kept with it, for the job's audit event."""
    user, label = author_parts(by)
    ip, via = request_context()
    return SuppressionImport.objects.create(
        tenant=tenant,
        created_by=user,
        created_by_label=label[:150],
        created_via=via[:150],
        created_ip=ip,
        filename=filename[:255],
        data=data,
        size=len(data),
        total_lines=data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1),
    )


def _claim(job_id: int) -> tuple[SuppressionImport | None, str]:
    token = secrets.token_hex(16)
    with transaction.atomic():
        job = SuppressionImport.objects.select_for_update().defer("data").filter(pk=job_id).first()
        if job is None or job.status in (SuppressionImport.Status.DONE, SuppressionImport.Status.FAILED):
            return None, ""
        now = timezone.now()
        if job.status == SuppressionImport.Status.RUNNING and now - job.updated_at < STALE_AFTER:
            return None, ""  # another worker is on it
        SuppressionImport.objects.filter(pk=job.pk).update(
            status=SuppressionImport.Status.RUNNING,
            run_token=token,
            attempts=job.attempts + 1,
            started_at=job.started_at or now,
            updated_at=now,
        )
    return job, token


def suppression_import_run(*, job_id: int) -> SuppressionImport | None:
    """Run (or resume) one job to the end; None when there is nothing to do (done, or claimed)."""
    job, token = _claim(job_id)
    if job is None:
        return None
    try:
        _run(job, token)
    except _Superseded:
        return None
    except Exception as exc:
        SuppressionImport.objects.filter(pk=job.pk, run_token=token).update(
            status=SuppressionImport.Status.FAILED,
            error=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        raise
    return SuppressionImport.objects.defer("data").get(pk=job.pk)


class _Superseded(Exception):
    """Another run claimed the job (this worker was presumed dead); stop without writing."""


def _run(job: SuppressionImport, token: str) -> None:
    data = SuppressionImport.objects.filter(pk=job.pk).values_list("data", flat=True).get()
    report = ImportReport()
    counts = {
        "added": job.added,
        "already": job.already,
        "duplicates": job.duplicates,
        "errors_total": job.errors_total,
    }
    errors: list[list[Any]] = list(job.errors)
    seen: set[str] = set()
    pending: list[tuple[str, str]] = []
    done_line = job.checkpoint_line
    last_line = done_line
    since_commit = 0
    for parsed in iter_suppression_lines(decode_upload(bytes(data)), report):
        if parsed.line <= done_line:  # committed by an earlier run: only remember its addresses
            if parsed.email:
                seen.add(parsed.email)
            continue
        last_line = parsed.line
        since_commit += 1
        if parsed.error:
            counts["errors_total"] += 1
            if len(errors) < IMPORT_MAX_ERRORS:
                # Postgres text (and so jsonb) cannot hold NUL: shown as U+FFFD
                excerpt = parsed.raw[:120].replace("\x00", "\ufffd")
                errors.append([parsed.line, parsed.error.replace("\x00", "\ufffd"), excerpt])
        elif parsed.email in seen:
            counts["duplicates"] += 1
        else:
            seen.add(parsed.email)
            pending.append((parsed.email, parsed.detail))
        if since_commit >= IMPORT_CHUNK:
            _commit(job, token, pending, counts, errors, report, last_line, final=False)
            pending, since_commit = [], 0
    _commit(job, token, pending, counts, errors, report, max(last_line, done_line), final=True)
    # Written by a worker, attributed like the request that uploaded the file (user, token, address).
    with acting_for_request(ip=job.created_ip, via=job.created_via):
        audit_record(
            action="suppression.import",
            by=job.created_by or job.created_by_label,
            tenant=job.tenant,
            after={
                "lines": report.lines,
                "added": counts["added"],
                "duplicates": counts["duplicates"],
                "already": counts["already"],
                "errors": counts["errors_total"],
                "file": job.filename[:200],
                "job": job.pk,
            },
        )


def _commit(
    job: SuppressionImport,
    token: str,
    pending: list[tuple[str, str]],
    counts: dict[str, int],
    errors: list[list[Any]],
    report: ImportReport,
    line: int,
    *,
    final: bool,
) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        added = 0
        if pending:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (email text, detail text)")
            cursor.execute(f"TRUNCATE {_STAGE}")
            with cursor.cursor.copy(f"COPY {_STAGE} (email, detail) FROM STDIN") as copy:
                for row in pending:
                    copy.write_row(row)
            cursor.execute(
                _INSERT,
                {
                    "tenant": job.tenant_id,
                    "reason": Suppression.Reason.IMPORT,
                    "detail": f"imported from {job.filename}" if job.filename else "",
                    "by": job.created_by_label,
                },
            )
            added = cursor.rowcount
        counts["added"] += added
        counts["already"] += len(pending) - added
        now = timezone.now()
        fields: dict[str, Any] = {
            **counts,
            "errors": errors,
            "lines": report.lines,
            "header": report.header,
            "email_column": report.email_column[:200],
            "checkpoint_line": line,
            "updated_at": now,
        }
        if final:
            fields.update(status=SuppressionImport.Status.DONE, finished_at=now)
        if not SuppressionImport.objects.filter(pk=job.pk, run_token=token).update(**fields):
            raise _Superseded


def suppression_imports_requeue_stale(*, now: Any = None) -> list[int]:
    """Jobs to queue again: waiting ones whose message was lost, running ones whose worker died."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    return list(
        SuppressionImport.objects.filter(
            status__in=[SuppressionImport.Status.NEW, SuppressionImport.Status.RUNNING], updated_at__lt=cutoff
        ).values_list("pk", flat=True)
    )


def report_of(job: SuppressionImport) -> ImportReport:
    """The job's counts as the ImportReport the synchronous import has always returned."""
    return ImportReport(
        lines=job.lines,
        added=job.added,
        duplicates=job.duplicates,
        already=job.already,
        errors=[LineError(line, reason, excerpt) for line, reason, excerpt in job.errors],
        errors_total=job.errors_total,
        email_column=job.email_column,
        header=job.header,
    )
