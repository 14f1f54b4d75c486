"""The tenant page's "Pools and IPs" section.

tenants.selectors.tenant_detail_blocks discovers this module; tenants never imports ips.
"""

from django.http import HttpRequest

from ips.models import IPAddress
from ips.selectors import pools_with_counts, status_counts, with_counts
from tenants.models import Tenant
from tenants.selectors import TenantBlock


def blocks(request: HttpRequest, tenant: Tenant) -> list[TenantBlock]:
    # The tenant page already checked that this user may see the tenant; pools are scoped again all the same.
    pools = pools_with_counts(request).filter(tenant=tenant)
    context = {
        "tenant": tenant,
        "pool_rows": [(pool, with_counts(pool)) for pool in pools],
        "counts": status_counts(IPAddress.objects.filter(pool__tenant=tenant)),
    }
    return [TenantBlock("Pools and IPs", "ips/_tenant_block.html", context, order=10)]
