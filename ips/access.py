"""One lookup per model, applying the tenant scope and the role.

Tenant users see their own pools and those pools' IPs, read-only; servers are operator-only. Only operators
change anything here, so `write=True` means "operator": a tenant user gets a 403 for an IP they can see and
a 404 for anything outside their tenant.
"""

import ipaddress

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from core.access import get_scoped_object_or_404
from ips.models import IPAddress, IPPool, MtaServer
from tenants.access import actor_for, require_operator

# The tenant of an IP is its pool's tenant; an IP without a pool is visible to operators only.
IP_TENANT_FIELD = "pool__tenant"


def get_ip_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> IPAddress:
    qs = IPAddress.objects.select_related("server", "pool", "pool__tenant")
    return get_scoped_object_or_404(
        actor_for(request), qs, pk, tenant_field=IP_TENANT_FIELD, write=write, write_needs_operator=True
    )


def get_ip_by_address_for_user(request: HttpRequest, address: str, *, write: bool = False) -> IPAddress:
    """The API names IPs by address; the scope and role checks stay those of get_ip_for_user."""
    try:
        normalized = str(ipaddress.ip_address(address.strip()))
    except ValueError:
        raise Http404("Not found") from None
    pk = IPAddress.objects.filter(address=normalized).values_list("pk", flat=True).first()
    if pk is None:
        raise Http404("Not found")
    return get_ip_for_user(request, pk, write=write)


def get_pool_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> IPPool:
    qs = IPPool.objects.select_related("server", "tenant")
    return get_scoped_object_or_404(
        actor_for(request), qs, pk, tenant_field="tenant", write=write, write_needs_operator=True
    )


def get_server_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> MtaServer:
    """Servers are shared infrastructure: operators only, a 404 for everyone else."""
    require_operator(request)
    return get_object_or_404(MtaServer, pk=pk)
