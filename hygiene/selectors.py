"""Reads of validation jobs for the pages, scoped to the user's tenant (operators see all).

The stored upload (``source_text``, up to VALIDATION_MAX_UPLOAD_BYTES) is never loaded by a page.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from hygiene.models import ValidationJob
from tenants.access import get_scoped_or_404, scope


def _jobs() -> QuerySet[ValidationJob]:
    return ValidationJob.objects.select_related("tenant", "created_by").defer("source_text")


def validation_jobs_for(request: HttpRequest, *, tenant_id: int | None = None) -> QuerySet[ValidationJob]:
    qs = scope(request, _jobs())
    if tenant_id:
        qs = qs.filter(tenant_id=tenant_id)
    return qs.order_by("-created_at", "-pk")


def get_validation_job_for_user(request: HttpRequest, pk: object) -> ValidationJob:
    """Everyone in the tenant reads its jobs (viewers too); another tenant's job is a 404."""
    return get_scoped_or_404(request, _jobs(), pk, tenant_field="tenant")
