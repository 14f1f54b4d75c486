"""MailWizz pages: per-tenant settings with connection test and sync status, synced campaigns, and the
feedback outbox. Tenant users see their own tenant (admins change it, viewers read); operators see all."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from mailwizz import services
from mailwizz.access import get_mailwizz_tenant_for_user, get_outbox_for_user
from mailwizz.forms import MailWizzConfigForm, OutboxFilterForm
from mailwizz.models import MailWizzCampaign, MailWizzOutbox
from mailwizz.selectors import (
    mailwizz_campaigns_filtered,
    mailwizz_config_for,
    mailwizz_overview,
    outbox_filtered,
    outbox_status_counts,
)
from mailwizz.services import (
    ConnectionResult,
    MailWizzConfigError,
    MailWizzOutboxError,
    mailwizz_config_save,
    mailwizz_connection_test,
    mailwizz_sync_campaigns,
)
from tenants.access import actor_for
from tenants.models import Tenant

SETTINGS_TEMPLATE = "mailwizz/settings.html"
RECENT_CAMPAIGNS = 10


@require_GET
def mailwizz_home(request: HttpRequest) -> HttpResponse:
    """Operators get every tenant's state; a tenant user goes straight to their own settings."""
    actor = actor_for(request)
    if not actor.is_operator:
        if actor.tenant_id is None:
            raise Http404("Not found")
        return redirect("mailwizz_settings", tenant_id=actor.tenant_id)
    return render(request, "mailwizz/index.html", {"rows": mailwizz_overview()})


def _settings_context(request: HttpRequest, tenant: Tenant, form: MailWizzConfigForm | None = None) -> dict:
    config = mailwizz_config_for(tenant)
    actor = actor_for(request)
    outbox = MailWizzOutbox.objects.filter(tenant=tenant)
    return {
        "tenant": tenant,
        "config": config,
        "form": form or MailWizzConfigForm(config=config),
        "can_manage": actor.can_manage_tenant_data,
        "recent": list(
            MailWizzCampaign.objects.filter(tenant=tenant).order_by("-send_at", "name")[:RECENT_CAMPAIGNS]
        ),
        "counts": outbox_status_counts(outbox),
        "campaign_source": settings.ACCOUNTING_CAMPAIGN_SOURCE,
    }


@require_http_methods(["GET", "POST"])
def mailwizz_settings(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = get_mailwizz_tenant_for_user(request, tenant_id, write=request.method == "POST")
    if request.method == "GET":
        return render(request, SETTINGS_TEMPLATE, _settings_context(request, tenant))
    config = mailwizz_config_for(tenant)
    form = MailWizzConfigForm(request.POST, config=config)
    if form.is_valid():
        data = form.cleaned_data
        try:
            mailwizz_config_save(
                tenant=tenant,
                by=request.user,
                base_url=data["base_url"],
                mode=data["mode"],
                header_prefix=data["header_prefix"],
                campaign_key_prefix=data["campaign_key_prefix"],
                enabled=data["enabled"],
                api_key=data["api_key"],
                private_key=data["private_key"],
            )
        except MailWizzConfigError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"MailWizz settings of {tenant.name} saved.")
            return redirect("mailwizz_settings", tenant_id=tenant.pk)
    return render(request, SETTINGS_TEMPLATE, _settings_context(request, tenant, form), status=400)


@require_POST
def mailwizz_test(request: HtmxRequest, tenant_id: int) -> HttpResponse:
    """Test connection (htmx swaps in the result; without JavaScript, a message on the settings page)."""
    tenant = get_mailwizz_tenant_for_user(request, tenant_id, write=True)
    config = mailwizz_config_for(tenant)
    if config is None:
        result = ConnectionResult(
            False, "MailWizz is not set up for this tenant yet: save the settings first."
        )
    else:
        result = mailwizz_connection_test(config=config)
    if request.htmx:
        return render(request, f"{SETTINGS_TEMPLATE}#test-result", {"result": result})
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("mailwizz_settings", tenant_id=tenant.pk)


@require_POST
def mailwizz_sync_now(request: HtmxRequest, tenant_id: int) -> HttpResponse:
    """Sync now, in the request: the client's timeouts bound it, and the result shows at once."""
    tenant = get_mailwizz_tenant_for_user(request, tenant_id, write=True)
    try:
        result = mailwizz_sync_campaigns(tenant=tenant, by=request.user)
    except MailWizzConfigError as exc:
        messages.error(request, str(exc))
    else:
        if result.ok:
            messages.success(
                request,
                f"Synced {result.campaigns} campaigns; {result.renamed} accounting campaigns renamed.",
            )
        else:
            messages.error(request, f"Sync failed: {result.error}")
    if request.htmx:
        return render(request, f"{SETTINGS_TEMPLATE}#sync-status", _settings_context(request, tenant))
    return redirect("mailwizz_settings", tenant_id=tenant.pk)


@require_GET
def mailwizz_campaigns(request: HtmxRequest, tenant_id: int) -> HttpResponse:
    tenant = get_mailwizz_tenant_for_user(request, tenant_id)
    q = request.GET.get("q", "").strip()[:200]
    context = {
        "tenant": tenant,
        "config": mailwizz_config_for(tenant),
        "q": q,
        "page": paginate(request, mailwizz_campaigns_filtered(tenant=tenant, q=q)),
        "qs": query_without_page(request),
    }
    template = "mailwizz/campaigns.html"
    if request.htmx and request.htmx.target == "mw-campaign-results":
        template += "#results"
    return render(request, template, context)


@require_GET
def mailwizz_outbox(request: HtmxRequest) -> HttpResponse:
    actor = actor_for(request)
    form = OutboxFilterForm(request.GET or None, request=request)
    filters = form.filters()
    qs = outbox_filtered(request, **filters)
    context = {
        "form": form,
        "page": paginate(request, qs),
        "qs": query_without_page(request),
        "counts": outbox_status_counts(outbox_filtered(request, tenant=filters.get("tenant"))),
        "can_manage": actor.can_manage_tenant_data,
    }
    template = "mailwizz/outbox.html"
    if request.htmx and request.htmx.target == "mw-outbox-results":
        template += "#results"
    return render(request, template, context)


@require_POST
def mailwizz_outbox_retry(request: HttpRequest, outbox_id: int) -> HttpResponse:
    row = get_outbox_for_user(request, outbox_id, write=True)
    try:
        services.mailwizz_outbox_retry(row=row, by=request.user)
    except MailWizzOutboxError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{row.email} will be sent again at the next run (within a minute).")
    return redirect("mailwizz_outbox")
