"""Lookups for the reputation pages, each applying the tenant scope.

IPs and domains are the inventory's own objects, scoped as their apps scope them (an IP belongs to its pool's
tenant, a domain to its tenant); blocklists are shared configuration and operator-only.
"""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from domains.models import SendingDomain
from ips.access import get_ip_for_user
from ips.models import IPAddress
from reputation.models import Blocklist, ProviderAccount
from tenants.access import get_scoped_or_404, require_operator

__all__ = [
    "get_blocklist_for_operator",
    "get_domain_for_reputation",
    "get_ip_for_reputation",
    "get_provider_account_for_user",
]


def get_ip_for_reputation(request: HttpRequest, pk: object) -> IPAddress:
    return get_ip_for_user(request, pk)


def get_domain_for_reputation(request: HttpRequest, pk: object) -> SendingDomain:
    return get_scoped_or_404(
        request, SendingDomain.objects.select_related("tenant"), pk, tenant_field="tenant"
    )


def get_blocklist_for_operator(request: HttpRequest, pk: object) -> Blocklist:
    require_operator(request)
    return get_object_or_404(Blocklist, pk=pk)


def get_provider_account_for_user(
    request: HttpRequest, pk: object, *, write: bool = False
) -> ProviderAccount:
    """Operators: any account. A tenant's users: their tenant's accounts (admins change them, viewers read);
    the operator's own accounts (no tenant) and other tenants' are a 404."""
    return get_scoped_or_404(
        request, ProviderAccount.objects.select_related("tenant"), pk, tenant_field="tenant", write=write
    )
