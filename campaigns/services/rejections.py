"""Kept accounting records (ImportRejection): re-ingest them after a fix, or dismiss them.

Operators only (the views and the API check that). Each call writes one audit event with its counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from campaigns.accounting.importer import BodyError, accounting_reingest_record
from campaigns.models import ImportRejection
from core.audit import Author, audit_record, author_parts

__all__ = ["REINGEST_MAX", "ReingestOutcome", "rejection_dismiss", "rejection_reingest"]

# At most this many records per call: each is its own small import (a few queries).
REINGEST_MAX = 1000


@dataclass
class ReingestOutcome:
    imported: int = 0
    duplicates: int = 0
    refused: int = 0  # still rejected or held: stays open with the new reason
    skipped: int = 0  # not open, or not kept whole (longer than ImportRejection.DATA_KEPT_MAX)
    reasons: list[str] = field(default_factory=list)  # the first few new reasons


def _label(by: Author) -> str:
    return author_parts(by)[1]


def _refuse(rejection: ImportRejection, outcome: ReingestOutcome, reason: str, kind: str) -> None:
    """Refused again: the record stays open, now with this reason."""
    outcome.refused += 1
    if len(outcome.reasons) < 10:
        outcome.reasons.append(f"#{rejection.pk}: {reason}")
    if (rejection.reason, rejection.kind) != (reason[:300], kind):
        rejection.reason, rejection.kind = reason[:300], kind
        rejection.save(update_fields=["reason", "kind"])


def rejection_reingest(
    *, rejections: Iterable[ImportRejection], by: Author, by_ip: bool = False
) -> ReingestOutcome:
    """Import each open, whole record again, as the server that sent it (``by_ip``: as its sending IP's
    own server and tenant, for a held mismatch the operator accepts). A record that goes in (or is found
    already stored) is resolved; one refused again stays open with the new reason."""
    outcome = ReingestOutcome()
    now = timezone.now()
    done: list[int] = []
    for rejection in list(rejections)[:REINGEST_MAX]:
        if not rejection.is_open or not rejection.complete:
            outcome.skipped += 1
            continue
        try:
            result = accounting_reingest_record(rejection=rejection, server=rejection.server, by_ip=by_ip)
        except BodyError as exc:
            # The kept bytes cannot be read as a body at all (a CSV line kept without its header, a JSON
            # record edited out of shape): refused like a bad record, never a crash of the whole batch.
            _refuse(rejection, outcome, f"cannot be read: {exc}", ImportRejection.Kind.REJECTED)
            continue
        if result.imported or result.duplicates:
            resolution = (
                ImportRejection.Resolution.IMPORTED
                if result.imported
                else ImportRejection.Resolution.DUPLICATE
            )
            outcome.imported += bool(result.imported)
            outcome.duplicates += not result.imported
            rejection.resolution, rejection.resolved_at, rejection.resolved_by = resolution, now, _label(by)
            rejection.save(update_fields=["resolution", "resolved_at", "resolved_by"])
            done.append(rejection.pk)
            continue
        reason = result.errors[0]["reason"] if result.errors else "refused again"
        kind = ImportRejection.Kind.MISMATCH if result.held else ImportRejection.Kind.REJECTED
        _refuse(rejection, outcome, reason, kind)
    audit_record(
        action="accounting.rejections_reingest",
        by=by,
        after={
            "imported": outcome.imported,
            "duplicates": outcome.duplicates,
            "refused": outcome.refused,
            "skipped": outcome.skipped,
            "by_ip": by_ip,
            "resolved_ids": done[:100],
        },
    )
    return outcome


def rejection_dismiss(*, rejections: Iterable[ImportRejection], by: Author, reason: str = "") -> int:
    """Close open kept records without importing them (nothing is deleted: they stay listed as dismissed)."""
    ids = [r.pk for r in rejections if r.is_open][:REINGEST_MAX]
    count = ImportRejection.objects.filter(pk__in=ids, resolution="").update(
        resolution=ImportRejection.Resolution.DISMISSED, resolved_at=timezone.now(), resolved_by=_label(by)
    )
    audit_record(
        action="accounting.rejections_dismiss",
        by=by,
        after={"dismissed": count, "ids": ids[:100]},
        reason=reason,
    )
    return count
