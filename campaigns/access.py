"""One lookup per model, applying the tenant scope and the role.

Campaigns, events and suppression entries belong to a tenant: operators see all, tenant users their own,
and another tenant's object is a 404. Rows whose tenant is unknown (accounting from an IP outside every
pool) are operator-only. Import history is operator-only: a 404 for everyone else.
"""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from campaigns.models import (
    AccountingFile,
    Campaign,
    ImportRejection,
    Suppression,
    SuppressionImport,
    TenantHold,
)
from core.access import get_scoped_object_or_404
from tenants.access import actor_for, require_operator


def get_campaign_for_user(request: HttpRequest, pk: object) -> Campaign:
    return get_scoped_object_or_404(
        actor_for(request), Campaign.objects.select_related("tenant"), pk, tenant_field="tenant"
    )


def get_suppression_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> Suppression:
    """Tenant admins change their own list, viewers read it (403 on a change), operators change all."""
    return get_scoped_object_or_404(
        actor_for(request),
        Suppression.objects.select_related("tenant"),
        pk,
        tenant_field="tenant",
        write=write,
    )


def get_accounting_file_for_user(request: HttpRequest, pk: object) -> AccountingFile:
    require_operator(request)
    return get_object_or_404(AccountingFile.objects.select_related("server"), pk=pk)


def get_tenant_hold_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> TenantHold:
    """A tenant sees its own holds; only operators release one (403 for a tenant user's release)."""
    return get_scoped_object_or_404(
        actor_for(request),
        TenantHold.objects.select_related("tenant"),
        pk,
        tenant_field="tenant",
        write=write,
        write_needs_operator=True,
    )


def get_rejection_for_user(request: HttpRequest, pk: object) -> ImportRejection:
    """Kept accounting records are operator-only, like the import history."""
    require_operator(request)
    return get_object_or_404(ImportRejection.objects.select_related("file", "server"), pk=pk)


def get_suppression_import_for_user(request: HttpRequest, pk: object) -> SuppressionImport:
    """A suppression import job: its tenant's members and operators see it; the upload is not loaded."""
    qs = SuppressionImport.objects.select_related("tenant").defer("data")
    return get_scoped_object_or_404(actor_for(request), qs, pk, tenant_field="tenant")
