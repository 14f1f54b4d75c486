"""One lookup per model of the reputation app, applying the tenant scope and the role.

Blocklists are shared configuration and operator-only; provider accounts belong to the operator or a tenant.
The pages about an IP or a domain use those models' own lookups (ips.access.get_ip_for_user,
domains.access.get_domain_for_user).
"""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from core.access import get_scoped_object_or_404
from reputation.models import Blocklist, ProviderAccount
from tenants.access import actor_for, require_operator


def get_blocklist_for_operator(request: HttpRequest, pk: object) -> Blocklist:
    require_operator(request)
    return get_object_or_404(Blocklist, pk=pk)


def get_provider_account_for_user(
    request: HttpRequest, pk: object, *, write: bool = False
) -> ProviderAccount:
    """Operators: any account. A tenant's users: their tenant's accounts (admins change them, viewers read);
    the operator's own accounts (no tenant) and other tenants' are a 404."""
    return get_scoped_object_or_404(
        actor_for(request),
        ProviderAccount.objects.select_related("tenant"),
        pk,
        tenant_field="tenant",
        write=write,
    )
