"""Reads of validation jobs for the pages, scoped to the user's tenant (operators see all).

The stored upload (``source_text``, up to VALIDATION_MAX_UPLOAD_BYTES) is never loaded by a page.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from core.access import scoped
from hygiene.models import ValidationJob
from tenants.access import actor_for


def jobs() -> QuerySet[ValidationJob]:
    return ValidationJob.objects.select_related("tenant", "created_by").defer("source_text")


def validation_jobs_for(request: HttpRequest, *, tenant_id: int | None = None) -> QuerySet[ValidationJob]:
    qs = scoped(actor_for(request), jobs())
    if tenant_id:
        qs = qs.filter(tenant_id=tenant_id)
    return qs.order_by("-created_at", "-pk")
