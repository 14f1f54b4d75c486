"""Reads the MailWizz pages (and the campaign pages) share."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from core.access import scoped
from mailwizz.models import MailWizzCampaign, MailWizzConfig, MailWizzOutbox
from tenants.access import actor_for
from tenants.models import Tenant


def mailwizz_config_for(tenant: Tenant) -> MailWizzConfig | None:
    return MailWizzConfig.objects.filter(tenant=tenant).first()


def mailwizz_campaign_names(*, tenant_id: int, keys: list[str]) -> dict[str, str]:
    """Accounting campaign key -> MailWizz campaign name, for pages that list campaigns by key."""
    config = (
        MailWizzConfig.objects.filter(tenant_id=tenant_id).only("campaign_key_prefix", "tenant_id").first()
    )
    if config is None or not keys:
        return {}
    prefix = config.campaign_key_prefix
    uids = {k: (k[len(prefix) :] if prefix and k.startswith(prefix) else k) for k in keys}
    names = dict(
        MailWizzCampaign.objects.filter(tenant_id=tenant_id, uid__in=set(uids.values()))
        .exclude(name="")
        .values_list("uid", "name")
    )
    return {key: names[uid] for key, uid in uids.items() if uid in names}


def mailwizz_campaigns_filtered(*, tenant: Tenant, q: str = "") -> QuerySet[MailWizzCampaign]:
    qs = MailWizzCampaign.objects.filter(tenant=tenant)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uid__icontains=q) | Q(list_name__icontains=q))
    return qs.order_by("-send_at", "name", "pk")


def outbox_filtered(
    request: HttpRequest, *, q: str = "", status: str = "", kind: str = "", tenant: Tenant | None = None
) -> QuerySet[MailWizzOutbox]:
    qs = scoped(actor_for(request), MailWizzOutbox.objects.select_related("tenant"), tenant_field="tenant")
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        q = q.strip()
        qs = qs.filter(Q(email__icontains=q.lower()) | Q(campaign_uid=q))
    return qs.order_by("-created_at", "-pk")


def outbox_status_counts(qs: QuerySet[MailWizzOutbox]) -> list[tuple[str, str, int]]:
    """(status, label, n) for every status, zeros included (one query)."""
    found = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    return [(value, label, found.get(value, 0)) for value, label in MailWizzOutbox.Status.choices]


def mailwizz_overview() -> list[dict]:
    """Operators' list: every tenant with its MailWizz state and outbox counts (three queries)."""
    tenants = list(Tenant.objects.order_by("name"))
    configs = {c.tenant_id: c for c in MailWizzConfig.objects.filter(tenant__in=tenants)}
    counts: dict[int, dict[str, int]] = {}
    for tenant_id, status, n in (
        MailWizzOutbox.objects.filter(tenant__in=tenants)
        .order_by()
        .values_list("tenant_id", "status")
        .annotate(n=Count("id"))
    ):
        counts.setdefault(tenant_id, {})[status] = n
    return [{"tenant": t, "config": configs.get(t.pk), "counts": counts.get(t.pk, {})} for t in tenants]
