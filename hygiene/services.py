"""Validation jobs: read an upload, decide every row in resumable chunks, write the result CSV.

Life of a job: ``new`` (queued) -> ``running`` -> ``done`` or ``failed``. A run claims the job with a fresh
``run_token`` and commits one ``ValidationChunk`` per CHUNK_ROWS rows together with the new ``done``
count, the counts and the heartbeat (``updated_at``), and only while its token is still the job's. So:
- a worker killed mid-job leaves the chunks it committed; the next run skips those rows and goes on;
- ``validation_jobs_requeue_stale`` (every few minutes, from beat) turns a ``running`` job whose heartbeat
  stopped back into ``new`` with the token cleared and queues it again; a worker that was only slow finds
  its token gone at its next commit and stops, so no row is ever decided twice;
- a job that keeps killing its worker fails after VALIDATION_MAX_ATTEMPTS runs instead of looping.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import batched, islice
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Suppression
from campaigns.services.suppression import EMAIL_HEADERS
from core.audit import Author, audit_record, author_parts
from core.csv_safe import csv_stream, csv_writer, restore_row
from hygiene.dns import DomainCache
from hygiene.models import ValidationChunk, ValidationJob
from hygiene.rules import (
    REASONS,
    STATUSES,
    Address,
    classify,
    is_disposable,
    is_role_account,
    needs_dns,
    parse_address,
)
from tenants.models import Tenant

log = logging.getLogger(__name__)

SNIFF_CHARS = 8192
DETECT_ROWS = 200  # rows looked at to find the email column when there is no named one
PASTE_FILENAME = "pasted addresses"

# Not a full address check (email-validator does that per row), just "this column holds addresses".
_LOOKS_LIKE_ADDRESS = re.compile(r"^<?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")
# Upload types that are not CSV text however they are named, by their first bytes.
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx), OpenDocument sheet or zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}


def max_upload_bytes() -> int:
    return int(settings.VALIDATION_MAX_UPLOAD_BYTES)


class UploadError(ValueError):
    """An upload that cannot be validated; the message is shown to the user as it is."""


@dataclass
class ParsedUpload:
    """What the upload page found in a file: enough to store the job and read the rows back later."""

    text: str
    filename: str
    source: str
    size: int
    delimiter: str
    has_header: bool
    header: list[str]
    email_index: int
    email_column: str
    total: int
    width: int


# --- reading uploads ---------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    head = data[:SNIFF_CHARS]
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise UploadError(f"This file is {what}, not CSV. Save it as “CSV UTF-8” and upload that.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UploadError("This file is UTF-16 text. Save it as “CSV UTF-8” and upload that.")
    if b"\x00" in head:
        raise UploadError("This is not a CSV text file (it contains binary data).")
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark, which must not end up in a header.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UploadError(
            f"This file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line} cannot be read). "
            "Save it as “CSV UTF-8” (in Excel: File, Save as, CSV UTF-8) and upload it again."
        ) from None


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:SNIFF_CHARS], delimiters=",;\t").delimiter
    except csv.Error:
        pass
    # The sniffer wants the same column count on every line; ragged files fall back to the first line.
    first = next((line for line in text[:SNIFF_CHARS].splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in ",;\t"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","  # one column


def iter_rows(text: str, delimiter: str) -> Iterator[list[str]]:
    """Every non-blank row, header included. The upload page and the job read rows through this one
    function, so row numbers mean the same thing to both."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        if any(cell.strip() for cell in row):
            # A result file we wrote (formula cells quoted) reads back as the original values.
            yield restore_row(row)


def _looks_like_address(value: str) -> bool:
    return bool(_LOOKS_LIKE_ADDRESS.match(value.strip()))


def _address_column(rows: list[list[str]]) -> int | None:
    """The first column where most non-empty cells look like addresses."""
    width = max((len(r) for r in rows), default=0)
    for col in range(width):
        values = [r[col] for r in rows if col < len(r) and r[col].strip()]
        if values and sum(map(_looks_like_address, values)) * 2 >= len(values):
            return col
    return None


def upload_parse(*, data: bytes, filename: str = "") -> ParsedUpload:
    """Check and describe an uploaded CSV; UploadError says what is wrong in words a user can act on.

    The email column is a header named email, e-mail, mail, address (and a few more, see EMAIL_HEADERS),
    or else the first column whose values look like addresses. A first row without any address in it is a
    header line; otherwise the file has none.
    """
    limit = max_upload_bytes()
    if len(data) > limit:
        raise UploadError(
            f"The file is larger than {limit // (1024 * 1024)} MB; split it and upload the parts."
        )
    if not data.strip():
        raise UploadError("The file is empty.")
    text = _decode(data)
    delimiter = _sniff_delimiter(text)
    try:
        rows = iter_rows(text, delimiter)
        sample = list(islice(rows, DETECT_ROWS + 1))
        if not sample:
            raise UploadError("The file has no addresses in it.")
        first = sample[0]
        names = [cell.strip().lower() for cell in first]
        has_header = not any("@" in cell for cell in first)
        email_index = (
            next((names.index(h) for h in EMAIL_HEADERS if h in names), None) if has_header else None
        )
        if email_index is None:
            email_index = _address_column(sample[1:] if has_header else sample)
        if email_index is None:
            raise UploadError(
                "No email column found. Name the column “email” in the header line, "
                "or upload a file with one address per line."
            )
        total = len(sample) - (1 if has_header else 0)
        width = max(len(r) for r in sample)
        for row in rows:
            total += 1
            width = max(width, len(row))
    except csv.Error as exc:
        raise UploadError(f"This file cannot be read as CSV: {exc}.") from None
    if total == 0:
        raise UploadError("The file has a header line but no addresses.")
    header = [cell.strip() for cell in first] if has_header else []
    return ParsedUpload(
        text=text,
        filename=(filename or "upload.csv")[:255],
        source=ValidationJob.Source.FILE,
        size=len(data),
        delimiter=delimiter,
        has_header=has_header,
        header=header,
        email_index=email_index,
        email_column=header[email_index]
        if has_header and header[email_index]
        else f"column {email_index + 1}",
        total=total,
        width=min(width, 32767),
    )


def paste_parse(*, text: str) -> ParsedUpload:
    """Pasted addresses, one per line, stored as a one-column CSV with an "email" header."""
    size = len(text.encode())
    limit = max_upload_bytes()
    if size > limit:
        raise UploadError(
            f"The pasted text is larger than {limit // (1024 * 1024)} MB; upload a file instead."
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise UploadError("Paste at least one address.")
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["email"])
    writer.writerows([line] for line in lines)
    return ParsedUpload(
        text=out.getvalue(),
        filename=PASTE_FILENAME,
        source=ValidationJob.Source.PASTE,
        size=size,
        delimiter=",",
        has_header=True,
        header=["email"],
        email_index=0,
        email_column="email",
        total=len(lines),
        width=1,
    )


# --- creating and running jobs -----------------------------------------------------------------------------


@transaction.atomic
def validation_job_create(*, tenant: Tenant, upload: ParsedUpload, by: Author) -> ValidationJob:
    """Store the upload as a new job; the caller queues ``validation_job_run`` once this commits."""
    user, _ = author_parts(by)
    job = ValidationJob.objects.create(
        tenant=tenant,
        created_by=user,
        filename=upload.filename,
        source=upload.source,
        total=upload.total,
        counts=_empty_counts(),
        email_column=upload.email_column[:200],
        email_index=upload.email_index,
        has_header=upload.has_header,
        header=upload.header,
        delimiter=upload.delimiter,
        width=upload.width,
        source_text=upload.text,
        source_bytes=upload.size,
    )
    audit_record(
        action="validation.create",
        by=by,
        obj=job,
        tenant=tenant,
        after={
            "filename": job.filename,
            "rows": job.total,
            "bytes": job.source_bytes,
            "email_column": job.email_column,
        },
    )
    return job


def _empty_counts() -> dict[str, Any]:
    return {
        "status": dict.fromkeys(STATUSES, 0),
        "reason": dict.fromkeys(REASONS, 0),
        "dns": {"domains": 0, "queries": 0},
    }


class _Superseded(Exception):
    """Another run owns the job now (this one was presumed dead): stop without touching it."""


def _stale_after() -> timedelta:
    return timedelta(seconds=float(settings.VALIDATION_STALE_SECONDS))


def stale_minutes() -> int:
    """How long a job that lost its queue message waits before it is queued again, in whole minutes
    (rounded up, plus the schedule's own period of up to a stale interval)."""
    return max(1, -(-int(_stale_after().total_seconds() * 2) // 60))


def _claim(job_id: int) -> tuple[ValidationJob | None, str]:
    """Lock the job and make it ours, or say why not (None: nothing to do here)."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        job = ValidationJob.objects.select_for_update().defer("source_text").filter(pk=job_id).first()
        if job is None or job.status in (ValidationJob.Status.DONE, ValidationJob.Status.FAILED):
            return None, ""
        if job.status == ValidationJob.Status.RUNNING and job.updated_at > now - _stale_after():
            return None, ""  # another worker is on it and alive
        max_attempts = int(settings.VALIDATION_MAX_ATTEMPTS)
        if job.attempts >= max_attempts:
            job.status = ValidationJob.Status.FAILED
            job.error = (
                f"Stopped after {job.attempts} attempts: the worker kept stopping part-way "
                f"({job.done} of {job.total} rows were checked). Upload the list again, or split it."
            )
            job.finished_at = job.updated_at = now
            job.run_token = ""
            job.save(update_fields=["status", "error", "finished_at", "updated_at", "run_token"])
            log.warning("validation job %s failed after %s attempts", job.pk, job.attempts)
            return None, ""
        job.status = ValidationJob.Status.RUNNING
        job.started_at = job.started_at or now
        job.updated_at = now
        job.attempts += 1
        job.run_token = token
        job.save(update_fields=["status", "started_at", "updated_at", "attempts", "run_token"])
    return job, token


def validation_job_run(*, job_id: int) -> ValidationJob | None:
    """Run (or resume) a job to the end. Safe to call twice, or for a job another worker is running."""
    job, token = _claim(job_id)
    if job is None:
        return ValidationJob.objects.defer("source_text").filter(pk=job_id).first()
    try:
        _run(job, token)
    except _Superseded:
        log.info("validation job %s: superseded by another run, stopping", job_id)
    except Exception as exc:
        log.exception("validation job %s failed", job_id)
        ValidationJob.objects.filter(pk=job_id, run_token=token).update(
            status=ValidationJob.Status.FAILED,
            error=f"The check stopped on an internal error ({type(exc).__name__}). Upload the list again.",
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    return ValidationJob.objects.defer("source_text").filter(pk=job_id).first()


def _domain_cache() -> DomainCache:
    timeout = float(settings.VALIDATION_DNS_TIMEOUT or settings.DNS_TIMEOUT)
    return DomainCache(
        settings.DNS_NAMESERVERS,
        timeout=timeout,
        concurrency=int(settings.VALIDATION_DNS_CONCURRENCY),
    )


def _run(job: ValidationJob, token: str) -> None:
    source = ValidationJob.objects.values_list("source_text", flat=True).get(pk=job.pk)
    # Everything already committed, read back: where to go on from, the counts so far, the addresses seen.
    chunks = list(job.chunks.order_by("index").values_list("index", "results"))
    start = sum(len(results) for _, results in chunks)
    next_index = chunks[-1][0] + 1 if chunks else 0
    seen = {key for _, results in chunks for _, _, key in results if key}
    counts = _merge_counts(_empty_counts(), job.counts)
    del chunks

    rows = iter_rows(source, job.delimiter)
    if job.has_header:
        next(rows, None)
    cache = _domain_cache()
    reported_queries = reported_domains = 0
    chunk_rows = max(1, int(settings.VALIDATION_CHUNK_ROWS))
    first_row = start
    for batch in batched(islice(rows, start, None), chunk_rows):
        results = _decide(job, batch, seen, cache)
        for status, reason, _ in results:
            counts["status"][status] += 1
            if reason:
                counts["reason"][reason] += 1
        counts["dns"]["queries"] += cache.queries - reported_queries
        counts["dns"]["domains"] += len(cache.outcomes) - reported_domains
        reported_queries, reported_domains = cache.queries, len(cache.outcomes)
        _commit_chunk(job, token, index=next_index, first_row=first_row, results=results, counts=counts)
        next_index += 1
        first_row += len(results)
    now = timezone.now()
    finished = ValidationJob.objects.filter(pk=job.pk, run_token=token).update(
        status=ValidationJob.Status.DONE,
        done=first_row,
        total=first_row,  # equal unless the stored text was read differently, which would be a bug
        counts=counts,
        finished_at=now,
        updated_at=now,
        run_token="",
    )
    if not finished:
        raise _Superseded


def _merge_counts(base: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    for group, values in (stored or {}).items():
        if isinstance(values, dict):
            base.setdefault(group, {}).update(values)
    return base


def _decide(
    job: ValidationJob, batch: tuple[list[str], ...], seen: set[str], cache: DomainCache
) -> list[list[str]]:
    """[status, reason, key] for each row of one chunk: syntax and duplicates first, then one suppression
    query and one concurrent DNS round for the chunk."""
    col = job.email_index
    parsed: list[Address | None] = []
    duplicate: list[bool] = []
    for row in batch:
        address = parse_address(row[col] if col < len(row) else "")
        if isinstance(address, str):
            parsed.append(None)
            duplicate.append(False)
            continue
        parsed.append(address)
        duplicate.append(address.key in seen)
        seen.add(address.key)
    keys = set()
    for parsed_address, dup in zip(parsed, duplicate, strict=True):
        if parsed_address is not None and not dup:
            keys.add(parsed_address.key)
            if parsed_address.ascii_key:
                keys.add(parsed_address.ascii_key)
    on_list = set(
        Suppression.objects.filter(tenant_id=job.tenant_id, email__in=keys).values_list("email", flat=True)
    )
    suppressed = [
        a is not None and (a.key in on_list or (bool(a.ascii_key) and a.ascii_key in on_list)) for a in parsed
    ]
    domains = {
        a.domain
        for a, dup, sup in zip(parsed, duplicate, suppressed, strict=True)
        if a is not None and needs_dns(syntax_ok=True, duplicate=dup, suppressed=sup)
    }
    outcomes = cache.lookup(domains)
    results = []
    for parsed_address, dup, sup in zip(parsed, duplicate, suppressed, strict=True):
        if parsed_address is None:
            status, reason = classify(syntax_ok=False)
            results.append([status, reason, ""])
            continue
        status, reason = classify(
            syntax_ok=True,
            duplicate=dup,
            suppressed=sup,
            dns=outcomes.get(parsed_address.domain),
            disposable=is_disposable(parsed_address.domain),
            role=is_role_account(parsed_address.local),
        )
        results.append([status, reason, parsed_address.key])
    return results


def _commit_chunk(
    job: ValidationJob,
    token: str,
    *,
    index: int,
    first_row: int,
    results: list[list[str]],
    counts: dict[str, Any],
) -> None:
    try:
        with transaction.atomic():
            moved = ValidationJob.objects.filter(
                pk=job.pk, run_token=token, status=ValidationJob.Status.RUNNING
            ).update(done=first_row + len(results), counts=counts, updated_at=timezone.now())
            if not moved:
                raise _Superseded
            ValidationChunk.objects.create(job_id=job.pk, index=index, first_row=first_row, results=results)
    except IntegrityError:
        raise _Superseded from None


def validation_jobs_requeue_stale(*, now: Any = None) -> list[int]:
    """Jobs whose worker died (running, heartbeat older than VALIDATION_STALE_SECONDS) or whose queue
    message was lost (new for as long): back to ``new`` with the token cleared. Returns their ids; the
    caller queues a run for each."""
    now = now or timezone.now()
    cutoff = now - _stale_after()
    stale = ValidationJob.objects.filter(
        status__in=[ValidationJob.Status.NEW, ValidationJob.Status.RUNNING], updated_at__lt=cutoff
    )
    ids = list(stale.values_list("pk", flat=True))
    if ids:
        # updated_at moves so the same job is queued again only after another stale period.
        ValidationJob.objects.filter(pk__in=ids, updated_at__lt=cutoff).update(
            status=ValidationJob.Status.NEW, run_token="", updated_at=now
        )
        log.warning("validation: re-queued %s stale job(s): %s", len(ids), ids)
    return ids


# --- the result file ---------------------------------------------------------------------------------------


def _free_name(name: str, taken: set[str]) -> str:
    candidate = name
    while candidate.lower() in taken:
        candidate = f"validation_{candidate}"
    return candidate


def result_columns(job: ValidationJob) -> tuple[str, str]:
    """Names of the two added columns: "status" and "reason", prefixed if the upload already has them."""
    taken = {h.strip().lower() for h in job.header}
    return _free_name("status", taken), _free_name("reason", taken)


def validation_result_rows(job: ValidationJob) -> Iterator[str]:
    """The result CSV, line by line: every original row (padded to the widest) plus status and reason.

    Same delimiter as the upload, header line only when the upload had one.
    """
    source = ValidationJob.objects.values_list("source_text", flat=True).get(pk=job.pk)
    rows = iter_rows(source, job.delimiter)
    width = job.width

    def padded(row: list[str]) -> list[str]:
        return row + [""] * (width - len(row))

    def lines() -> Iterator[list[str]]:
        if job.has_header:
            header = next(rows, None) or []
            yield [*padded(header), *result_columns(job)]
        chunks = job.chunks.order_by("index").values_list("results", flat=True).iterator(chunk_size=10)
        verdicts = (result for results in chunks for result in results)
        for row, (status, reason, _) in zip(rows, verdicts, strict=False):
            yield [*padded(row), status, reason]

    # The upload's cells go back to a spreadsheet: formula cells are neutralised (core.csv_safe).
    yield from csv_stream(lines(), delimiter=job.delimiter)
