"""Tenant holds (campaigns/enforcement.py): the list, and an operator's release with a reason."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from campaigns.access import get_tenant_hold_for_user
from campaigns.enforcement import EnforcementError, tenant_hold_release
from campaigns.models import TenantHold
from campaigns.stats import format_rate
from core.access import scoped
from core.paging import paginate
from tenants.access import actor_for


class ReleaseForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Why the tenant may send again (audited)")


def tenant_hold_list(request: HttpRequest) -> HttpResponse:
    holds = scoped(actor_for(request), TenantHold.objects.select_related("tenant"), tenant_field="tenant")
    status = request.GET.get("status", "open")
    if status == "open":
        holds = holds.filter(released_at__isnull=True)
    page = paginate(request, holds.order_by("-opened_at", "-pk"))
    context = {
        "page": page,
        "status": status,
        "thresholds": {
            "complaint": format_rate(settings.TENANT_HOLD_COMPLAINT_RATE),
            "bounce": format_rate(settings.TENANT_HOLD_BOUNCE_RATE),
            "min_attempted": settings.TENANT_ENFORCE_MIN_ATTEMPTED,
            "days": settings.TENANT_ENFORCE_WINDOW_DAYS,
        },
    }
    return render(request, "campaigns/tenant_holds.html", context)


@require_http_methods(["GET", "POST"])
def tenant_hold_release_view(request: HttpRequest, hold_id: int) -> HttpResponse:
    # GET shows the confirmation; tenant users may read it, only operators release (403 on POST).
    hold = get_tenant_hold_for_user(request, hold_id, write=request.method == "POST")
    form = ReleaseForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            tenant_hold_release(hold=hold, by=request.user, reason=form.cleaned_data["reason"])
        except EnforcementError as exc:
            error = str(exc)
        else:
            messages.success(request, f"{hold.tenant.name} released: its IPs held by this hold send again.")
            return redirect("tenant_hold_list")
    return render(request, "campaigns/tenant_hold_release.html", {"hold": hold, "form": form, "error": error})
