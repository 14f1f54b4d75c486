from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.models import User as AuthUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from tenants import services
from tenants.access import actor_for, get_membership_for_user, get_tenant_for_user, require_operator
from tenants.forms import ApiTokenForm, AuditFilterForm, MemberAddForm, MemberRoleForm, TenantForm
from tenants.models import ApiToken, Membership
from tenants.selectors import (
    audit_events,
    filter_is_on,
    tenant_detail_blocks,
    tenant_list_filters,
    tenants_for_list,
)


def tenant_list(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    q = request.GET.get("q", "").strip()
    filters = [(f, filter_is_on(request.GET.get(f.param, ""))) for f in tenant_list_filters()]
    page = paginate(request, tenants_for_list(request, q=q, active=[f for f, on in filters if on]))
    return render(
        request,
        "tenants/tenant_list.html",
        {
            "page": page,
            "q": q,
            "filters": filters,
            "filtered": bool(q) or any(on for _, on in filters),
            "qs": query_without_page(request),
        },
    )


@require_http_methods(["GET", "POST"])
def tenant_create(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    form = TenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tenant = services.tenant_create(
            name=form.cleaned_data["name"], slug=form.cleaned_data["slug"], by=request.user
        )
        messages.success(request, f"Tenant {tenant.name} created.")
        return redirect("tenant_detail", tenant_id=tenant.pk)
    return render(request, "tenants/tenant_form.html", {"form": form})


def tenant_detail(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = get_tenant_for_user(request, tenant_id)
    members = tenant.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "tenants/tenant_detail.html",
        {
            "tenant": tenant,
            "tenant_blocks": tenant_detail_blocks(request, tenant),
            "members": members,
            "member_form": MemberAddForm(),
            "roles": Membership.Role.choices,
        },
    )


@require_POST
def member_add(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = get_tenant_for_user(request, tenant_id, write=True)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        services.member_add(tenant=tenant, by=request.user, **form.cleaned_data)
        messages.success(request, f"{form.cleaned_data['username']} added.")
        return redirect("tenant_detail", tenant_id=tenant.pk)
    members = tenant.memberships.select_related("user")
    return render(
        request,
        "tenants/tenant_detail.html",
        {"tenant": tenant, "members": members, "member_form": form, "roles": Membership.Role.choices},
        status=400,
    )


@require_POST
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, member_id)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        services.member_set_role(membership=membership, role=form.cleaned_data["role"], by=request.user)
        messages.success(request, f"{membership.user.username} is now {membership.get_role_display()}.")
    return redirect("tenant_detail", tenant_id=membership.tenant_id)


@require_POST
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, member_id)
    tenant_id = membership.tenant_id
    services.member_remove(membership=membership, by=request.user)
    messages.success(request, "Member removed and their login disabled.")
    return redirect("tenant_detail", tenant_id=tenant_id)


def audit_readable(request: HttpRequest) -> None:
    """Operators read the whole log, tenant admins their tenant's part; everyone else gets a 404."""
    actor = actor_for(request)
    if not (actor.is_operator or actor.is_tenant_admin):
        require_operator(request)


def audit_list(request: HtmxRequest) -> HttpResponse:
    audit_readable(request)
    form = AuditFilterForm(request.GET or None)
    if not actor_for(request).is_operator:
        del form.fields["tenant"]
    qs = audit_events(request, form.cleaned_data if form.is_valid() else {})
    page = paginate(request, qs)
    template = "tenants/audit_list.html#results" if request.htmx else "tenants/audit_list.html"
    return render(request, template, {"page": page, "form": form, "qs": query_without_page(request)})


# --- personal API tokens -------------------------------------------------------------------------------


def _me(request: HttpRequest) -> AuthUser:
    # LoginRequiredMiddleware guarantees a logged-in user here.
    assert isinstance(request.user, AuthUser)
    return request.user


def _token_list(request: HttpRequest, form: ApiTokenForm, status: int = 200) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=_me(request)).order_by("revoked_at", "-created_at")
    return render(request, "tenants/api_tokens.html", {"tokens": tokens, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Every user manages their own tokens; a token can do what its user can, no more."""
    form = ApiTokenForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return _token_list(request, form, status=200 if request.method == "GET" else 400)
    days = form.cleaned_data["expires_in_days"]
    try:
        token, raw = services.api_token_create(
            user=_me(request),
            name=form.cleaned_data["name"],
            by=request.user,
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
    except services.TokenError as exc:
        form.add_error("name", str(exc))
        return _token_list(request, form, status=400)
    response = render(request, "tenants/api_token_created.html", {"token": token, "raw": raw})
    # The token is shown this once: keep it out of every cache.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    # A user revokes their own tokens (anyone else's is a 404); operators may revoke any token, e.g. one
    # that leaked.
    qs = ApiToken.objects.select_related("user")
    if not actor_for(request).is_operator:
        qs = qs.filter(user=_me(request))
    token = get_object_or_404(qs, pk=token_id)
    services.api_token_revoke(token=token, by=request.user)
    messages.success(request, f"Token {token.name} revoked; it no longer authenticates.")
    return redirect("api_tokens")
