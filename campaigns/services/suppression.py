"""A tenant's suppression list, changed by hand: add, remove, import a CSV, export a CSV.

Hard bounces and complaints are added by the accounting importer; these services are what tenant admins
and operators do. Each add and remove writes one audit event, and an import writes one summary event (the
rows it added are listed by count, not one event per address, so a 100k-line import stays one action).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from campaigns.models import Suppression
from core.audit import Author, audit_record, author_parts
from core.csv_safe import csv_stream, restore_row
from tenants.models import Tenant

# Column names (lower-cased) that hold the address, in the order they are preferred.
EMAIL_HEADERS = ("email", "e-mail", "mail", "email address", "email_address", "address", "recipient", "rcpt")
DETAIL_HEADERS = ("detail", "note", "notes", "comment")
EXPORT_FIELDS = ("email", "reason", "detail", "created_at", "created_by")
IMPORT_MAX_ERRORS = 1000  # reported one by one; past this only counted
IMPORT_BATCH = 1000

_validate_email = EmailValidator()


class SuppressionError(ValueError):
    """A change that cannot be made (already suppressed, invalid address)."""


def normalise_email(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


def check_email(value: str) -> str:
    """The normalised address, or SuppressionError with the reason.

    Django's EmailValidator decides, applied the way it applies itself (user part against its user
    regex, domain part through its domain checks), with each domain's verdict remembered: a million-line
    import names a few thousand domains.
    """
    email = normalise_email(value)
    if not email:
        raise SuppressionError("empty address")
    if len(email) > 320:
        raise SuppressionError("address longer than 320 characters")
    user, at, domain = email.rpartition("@")
    if not at or not _user_ok(user) or not _domain_ok(domain):
        raise SuppressionError(f"not a valid email address: {email[:80]!r}")
    return email


_user_ok = _validate_email.user_regex.match  # the compiled pattern behind Django's lazy one


@functools.lru_cache(maxsize=50_000)
def _domain_ok(domain: str) -> bool:
    try:
        _validate_email(f"a@{domain}")
    except ValidationError:
        return False
    return True


def _by_label(by: Author) -> str:
    return author_parts(by)[1]


@transaction.atomic
def suppression_add(
    *,
    tenant: Tenant,
    email: str,
    by: Author,
    detail: str = "",
    reason: str = Suppression.Reason.MANUAL,
) -> Suppression:
    email = check_email(email)
    try:
        with transaction.atomic():
            entry = Suppression.objects.create(
                tenant=tenant, email=email, reason=reason, detail=detail[:300], created_by=_by_label(by)
            )
    except IntegrityError:
        raise SuppressionError(f"{email} is already on the suppression list") from None
    audit_record(
        action="suppression.add",
        by=by,
        obj=entry,
        tenant=tenant,
        after={"email": email, "reason": reason, "detail": entry.detail},
    )
    return entry


@transaction.atomic
def suppression_remove(*, entry: Suppression, by: Author, reason: str = "") -> None:
    before = {
        "email": entry.email,
        "reason": entry.reason,
        "detail": entry.detail,
        "created_by": entry.created_by,
    }
    # Audit first: the event keeps the row's id, which is gone after delete().
    audit_record(
        action="suppression.remove", by=by, obj=entry, tenant=entry.tenant, before=before, reason=reason
    )
    entry.delete()


@dataclass
class LineError:
    line: int
    reason: str
    excerpt: str


@dataclass
class ImportReport:
    lines: int = 0  # data lines read (header and blank lines excluded)
    added: int = 0
    duplicates: int = 0  # the same address again in this file
    already: int = 0  # already on the list before the import
    errors: list[LineError] = field(default_factory=list)
    errors_total: int = 0
    email_column: str = ""
    header: bool = False

    @property
    def ok(self) -> bool:
        return self.errors_total == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "added": self.added,
            "duplicates": self.duplicates,
            "already": self.already,
            "errors": self.errors_total,
        }


@dataclass
class _Parsed:
    addresses: dict[str, tuple[int, str]]  # email -> (line, detail), first occurrence wins
    report: ImportReport


def decode_upload(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheet exports are often Windows-1252; latin-1 never fails and keeps ASCII addresses intact.
        return data.decode("latin-1")


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _find_header(row: list[str]) -> tuple[int | None, int | None] | None:
    """(email column, detail column) when ``row`` is a header line (it names a known column), else None."""
    names = [c.strip().lower() for c in row]
    if any("@" in c for c in names):
        return None
    email_col = next((names.index(h) for h in EMAIL_HEADERS if h in names), None)
    detail_col = next((names.index(h) for h in DETAIL_HEADERS if h in names), None)
    if email_col is None and detail_col is None:
        return None
    return email_col, detail_col


@dataclass(slots=True)
class ParsedLine:
    """One data line of a suppression CSV: ``email`` (normalised) or ``error``, with its line number."""

    line: int
    email: str
    detail: str
    error: str
    raw: str


def iter_suppression_lines(text: str, report: ImportReport) -> Iterator[ParsedLine]:
    """Every data line of a suppression CSV, in order; none is skipped silently.

    The header line is optional: a first line naming a known column (email, address, recipient...) is a
    header and picks the email column (``report.header``, ``report.email_column``). Without one, the email
    column is the first column holding an ``@`` on the first line that has one. Blank lines are skipped.
    A line the CSV reader cannot read (a stray quote, a NUL, an oversized field) is an error for that line
    alone, and reading goes on with the next one.
    """
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_sniff_dialect(text[:4096]))
    email_col: int | None = None
    detail_col: int | None = None
    seen_first = False
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.lines += 1
            yield ParsedLine(reader.line_num, "", "", f"unreadable CSV: {exc}", "")
            continue
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        row = restore_row(cells)  # our own export quotes formula cells; read them back as they were
        raw = ",".join(row)
        if not seen_first:
            seen_first = True
            header = _find_header(row)
            if header is not None:
                email_col, detail_col = header
                report.header = True
                if email_col is None:
                    yield ParsedLine(line, "", "", "the header has no email column (name one 'email')", raw)
                    return
                report.email_column = row[email_col].strip()
                continue
        report.lines += 1
        if email_col is None:
            email_col = next((i for i, c in enumerate(row) if "@" in c), None)
            if email_col is None:
                yield ParsedLine(line, "", "", "no email address on this line", raw)
                continue
            report.email_column = f"column {email_col + 1}"
        if email_col >= len(row) or not row[email_col].strip():
            yield ParsedLine(line, "", "", f"no address in column {email_col + 1}", raw)
            continue
        try:
            email = check_email(row[email_col])
        except SuppressionError as exc:
            yield ParsedLine(line, "", "", str(exc), raw)
            continue
        detail = row[detail_col].strip() if detail_col is not None and detail_col < len(row) else ""
        yield ParsedLine(line, email, detail, "", raw)


def report_error(report: ImportReport, parsed: ParsedLine) -> None:
    report.errors_total += 1
    if len(report.errors) < IMPORT_MAX_ERRORS:
        report.errors.append(LineError(parsed.line, parsed.error, parsed.raw[:120]))


def parse_suppression_csv(data: bytes) -> _Parsed:
    """Read the addresses of a CSV upload; every bad line is reported with its number and reason."""
    report = ImportReport()
    addresses: dict[str, tuple[int, str]] = {}
    for parsed in iter_suppression_lines(decode_upload(data), report):
        if parsed.error:
            report_error(report, parsed)
        elif parsed.email in addresses:
            report.duplicates += 1
        else:
            addresses[parsed.email] = (parsed.line, parsed.detail)
    return _Parsed(addresses, report)


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def suppression_import_csv(*, tenant: Tenant, data: bytes, by: Author, filename: str = "") -> ImportReport:
    """Add every valid address of a CSV upload now (the page runs the same job in the background);
    addresses already suppressed are counted, not changed."""
    from campaigns.services.suppression_import import (
        report_of,
        suppression_import_create,
        suppression_import_run,
    )

    job = suppression_import_create(tenant=tenant, data=data, by=by, filename=filename)
    return report_of(suppression_import_run(job_id=job.pk) or job)


def suppression_export_rows(qs: QuerySet[Suppression], *, with_tenant: bool = False) -> Iterable[str]:
    """CSV lines (header first) for a streaming response; rows come from the database in chunks.

    Notes and addresses are tenant text: formula cells are neutralised (core.csv_safe), and
    ``parse_suppression_csv`` reads the file back unchanged.
    """
    fields = (*EXPORT_FIELDS, "tenant") if with_tenant else EXPORT_FIELDS

    def lines() -> Iterator[list[str]]:
        yield list(fields)
        rows = qs.order_by("tenant_id", "email")
        if with_tenant:
            rows = rows.select_related("tenant")
        for entry in rows.iterator(chunk_size=2000):
            values = [
                entry.email,
                entry.reason,
                entry.detail,
                entry.created_at.isoformat(timespec="seconds"),
                entry.created_by,
            ]
            if with_tenant:
                values.append(entry.tenant.slug)
            yield values

    return csv_stream(lines())
