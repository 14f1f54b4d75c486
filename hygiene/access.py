"""One lookup per model, applying the tenant scope and the role."""

from django.http import HttpRequest

from core.access import get_scoped_object_or_404
from hygiene.models import ValidationJob
from hygiene.selectors import jobs
from tenants.access import actor_for


def get_validation_job_for_user(request: HttpRequest, pk: object) -> ValidationJob:
    """Everyone in the tenant reads its jobs (viewers too); another tenant's job is a 404."""
    return get_scoped_object_or_404(actor_for(request), jobs(), pk, tenant_field="tenant")
