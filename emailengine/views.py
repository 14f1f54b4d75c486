from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.access import actor_for, scope
from tenants.models import AuditEvent, Membership, Tenant


def home(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request)
    recent = scope(request, AuditEvent.objects.select_related("tenant"))[:10]
    if actor.is_operator:
        context = {
            "totals": {
                "tenants": Tenant.objects.count(),
                "tenant users": Membership.objects.count(),
                "operators": get_user_model().objects.filter(is_staff=True).count(),
            },
        }
        template = "emailengine/home_operator.html"
    else:
        tenant = Tenant.objects.filter(pk=actor.tenant_id).first()
        context = {"tenant": tenant}
        template = "emailengine/home_tenant.html"
    context["recent"] = recent
    return render(request, template, context)
