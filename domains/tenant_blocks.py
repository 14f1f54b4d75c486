"""The tenant page's "Sending domains" section.

tenants.selectors.tenant_detail_blocks discovers this module; tenants never imports domains.
"""

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpRequest

from core.access import scoped
from domains.models import Ownership, SendingDomain
from tenants.access import actor_for
from tenants.models import Tenant
from tenants.selectors import TenantBlock

# The section lists the worst domains first, up to this many; the domain list has the rest.
SHOWN = 15


def blocks(request: HttpRequest, tenant: Tenant) -> list[TenantBlock]:
    domains = scoped(actor_for(request), SendingDomain.objects.filter(tenant=tenant))
    totals = domains.aggregate(
        total=Count("pk"),
        problems=Count("pk", filter=Q(status__in=SendingDomain.PROBLEM_STATUSES)),
        pending=Count("pk", filter=Q(ownership=Ownership.PENDING)),
    )
    # Problems first (the same set as the list's "only problems"), then by name.
    worst = domains.annotate(
        problem=Case(
            When(status__in=SendingDomain.PROBLEM_STATUSES, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    shown = list(worst.order_by("-problem", "name")[:SHOWN])
    context = {"tenant": tenant, "domains": shown, "totals": totals, "more": totals["total"] > len(shown)}
    return [TenantBlock("Sending domains", "domains/_tenant_block.html", context, order=20)]
