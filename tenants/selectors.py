"""Reads shared by the tenants pages and the API."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from core.access import scoped
from core.app_hooks import app_hooks
from core.models import AuditEvent
from tenants.access import actor_for
from tenants.models import Tenant


@dataclass(frozen=True)
class TenantBlock:
    """A section another app adds to the tenant page (pools and IPs, domains, sending)."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


def tenant_detail_blocks(request: HttpRequest, tenant: Tenant) -> list[TenantBlock]:
    """Sections from the apps above tenants, in ``order``: an app opts in with a ``tenant_blocks.py`` module
    defining ``blocks(request, tenant) -> list[TenantBlock]`` (tenants never imports those apps)."""
    providers = app_hooks("tenant_blocks", "blocks", skip="tenants")
    found = [block for provider in providers for block in provider(request, tenant)]
    return sorted(found, key=lambda b: b.order)


@dataclass(frozen=True)
class TenantFilter:
    """A checkbox filter another app adds to the tenant list (tenants over a rate threshold): its query
    parameter, its label, and the ids of the tenants it keeps, asked only when the filter is on. The app
    that decides the set owns the rule (tenants never imports it)."""

    param: str
    label: str
    tenant_ids: Callable[[HttpRequest], Iterable[int]]
    order: int = 100


def tenant_list_filters() -> list[TenantFilter]:
    """Filters from the apps above tenants: an app opts in with a ``tenant_filters.py`` module defining
    ``filters() -> list[TenantFilter]``."""
    found = [f for provider in app_hooks("tenant_filters", "filters", skip="tenants") for f in provider()]
    return sorted(found, key=lambda f: f.order)


def filter_is_on(value: str) -> bool:
    # ?over=1 (the home page's link) or the checkbox ("on").
    return value in ("1", "on", "true")


def tenants_for_list(request: HttpRequest, *, q: str, active: Iterable[TenantFilter]) -> QuerySet[Tenant]:
    """The tenant list's rows (operators only): by name, searched by ``q``, kept to each active filter."""
    # Grouped queries drop Meta.ordering; pagination needs a stable order.
    qs = Tenant.objects.annotate(member_count=Count("memberships")).order_by("name", "pk")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(slug__icontains=q))
    for tenant_filter in active:
        qs = qs.filter(pk__in=list(tenant_filter.tenant_ids(request)))
    return qs


def audit_events(request: HttpRequest, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """The audit log the user may read, filtered as the audit page's filter form cleaned it."""
    qs = scoped(actor_for(request), AuditEvent.objects.select_related("tenant"))
    if filters.get("q"):
        qs = qs.filter(
            Q(object_repr__icontains=filters["q"])
            | Q(actor_label__icontains=filters["q"])
            | Q(reason__icontains=filters["q"])
        )
    if filters.get("action"):
        qs = qs.filter(action__startswith=filters["action"])
    if filters.get("tenant"):
        qs = qs.filter(tenant=filters["tenant"])
    if filters.get("since"):
        qs = qs.filter(created_at__date__gte=filters["since"])
    if filters.get("until"):
        qs = qs.filter(created_at__date__lte=filters["until"])
    return qs
