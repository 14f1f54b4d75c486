"""API routes of the tenants app: who the token is, and the audit log."""

from datetime import date, datetime
from typing import Literal

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tenants import services
from tenants.access import actor_for, get_membership_for_user, get_tenant_for_user, require_operator
from tenants.api_kit import Page, PageParams, form_input, paginate, validated
from tenants.forms import AuditFilterForm, MemberAddForm, MemberRoleForm, TenantForm
from tenants.models import Membership, Tenant
from tenants.selectors import audit_events
from tenants.views import audit_readable

router = Router(tags=["me", "audit"])
# Tenants and members: the same access helpers, forms and services as the tenant pages (tenants/views.py):
# operators manage tenants and members; a tenant's users read their own tenant and its members.
tenants_router = Router(tags=["tenants"])


class TenantRef(Schema):
    id: int
    slug: str
    name: str


class TokenInfo(Schema):
    name: str
    hint: str
    expires_at: datetime | None


class MeOut(Schema):
    username: str
    is_operator: bool
    role: str | None = Field(description="admin or viewer for tenant users, null for operators")
    tenant: TenantRef | None
    token: TokenInfo


@router.get("/me", response=MeOut, tags=["me"], summary="The token's user, role and tenant")
def me(request: HttpRequest) -> dict:
    actor = actor_for(request)
    membership = None
    if not actor.is_operator and actor.user_id is not None:
        membership = Membership.objects.select_related("tenant").filter(user_id=actor.user_id).first()
    return {
        "username": request.user.get_username(),
        "is_operator": actor.is_operator,
        "role": actor.role,
        "tenant": membership.tenant if membership else None,
        "token": request.api_token,  # type: ignore[attr-defined]
    }


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor: str = Field(alias="actor_label")
    via: str
    tenant: str | None = Field(None, alias="tenant.slug")
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: dict | None
    after: dict | None
    reason: str
    ip_address: str | None


class AuditFilters(Schema):
    q: str = ""
    action: str = Field("", description="Prefix, e.g. `ip.` or `ip.status`")
    tenant: int | None = Field(None, description="Tenant id (operators)")
    since: date | None = None
    until: date | None = None


@router.get("/audit", response=Page[AuditEventOut], tags=["audit"], summary="The audit log, newest first")
def audit_list(
    request: HttpRequest, filters: Query[AuditFilters], page: Query[PageParams]
) -> dict[str, object]:
    audit_readable(request)
    form = AuditFilterForm(filters.dict(exclude_none=True))
    if not actor_for(request).is_operator:
        del form.fields["tenant"]
    return paginate(request, audit_events(request, validated(form).cleaned_data), page)


# --- tenants and members --------------------------------------------------------------------------------


class TenantOut(Schema):
    id: int
    name: str
    slug: str
    is_active: bool
    created_at: datetime
    member_count: int


def _tenants() -> QuerySet[Tenant]:
    # Grouped queries drop Meta.ordering; pagination needs a stable order (as on the tenant list page).
    return Tenant.objects.annotate(member_count=Count("memberships")).order_by("name")


class TenantFilters(Schema):
    q: str = Field("", description="Part of the name or slug")


@tenants_router.get("/tenants", response=Page[TenantOut], summary="Tenants (operators)")
def tenant_list(request: HttpRequest, filters: Query[TenantFilters], page: Query[PageParams]) -> dict:
    require_operator(request)
    qs = _tenants()
    q = filters.q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(slug__icontains=q))
    return paginate(request, qs, page)


class TenantCreateIn(Schema):
    name: str
    slug: str = Field(description="Short name used in URLs and commands (letters, digits, hyphens)")


@tenants_router.post("/tenants", response={201: TenantOut}, summary="Create a tenant (operators)")
def tenant_create(request: HttpRequest, payload: TenantCreateIn) -> Status:
    require_operator(request)
    d = validated(TenantForm(form_input(payload.dict()))).cleaned_data
    tenant = services.tenant_create(name=d["name"], slug=d["slug"], by=request.user)
    return Status(201, _tenants().get(pk=tenant.pk))


@tenants_router.get(
    "/tenants/{int:tenant_id}", response=TenantOut, summary="One tenant (yours, or any for operators)"
)
def tenant_detail(request: HttpRequest, tenant_id: int) -> Tenant:
    return _tenants().get(pk=get_tenant_for_user(request, tenant_id).pk)


class TenantUpdateIn(Schema):
    is_active: bool = Field(description="false deactivates the tenant")


@tenants_router.patch(
    "/tenants/{int:tenant_id}", response=TenantOut, summary="Activate or deactivate a tenant"
)
def tenant_update(request: HttpRequest, tenant_id: int, payload: TenantUpdateIn) -> Tenant:
    tenant = get_tenant_for_user(request, tenant_id, write=True)
    if tenant.is_active != payload.is_active:
        services.tenant_set_active(tenant=tenant, active=payload.is_active, by=request.user)
    return _tenants().get(pk=tenant.pk)


class MemberOut(Schema):
    id: int
    username: str = Field(alias="user.username")
    email: str = Field(alias="user.email")
    is_active: bool = Field(alias="user.is_active")
    tenant: str = Field(alias="tenant.slug")
    role: str
    created_at: datetime


@tenants_router.get(
    "/tenants/{int:tenant_id}/members", response=Page[MemberOut], summary="A tenant's members"
)
def member_list(request: HttpRequest, tenant_id: int, page: Query[PageParams]) -> dict:
    tenant = get_tenant_for_user(request, tenant_id)
    qs = tenant.memberships.select_related("user", "tenant").order_by("user__username")
    return paginate(request, qs, page)


class MemberAddIn(Schema):
    username: str
    email: str = ""
    password: str = Field(description="At least 8 characters; the password rules apply")
    role: Literal["admin", "viewer"]


@tenants_router.post(
    "/tenants/{int:tenant_id}/members",
    response={201: MemberOut},
    summary="Add a login to a tenant (operators)",
)
def member_add(request: HttpRequest, tenant_id: int, payload: MemberAddIn) -> Status:
    tenant = get_tenant_for_user(request, tenant_id, write=True)
    d = validated(MemberAddForm(form_input(payload.dict()))).cleaned_data
    membership = services.member_add(tenant=tenant, by=request.user, **d)
    return Status(201, Membership.objects.select_related("user", "tenant").get(pk=membership.pk))


class MemberRoleIn(Schema):
    role: Literal["admin", "viewer"]


@tenants_router.patch(
    "/members/{int:member_id}", response=MemberOut, summary="Change a member's role (operators)"
)
def member_role(request: HttpRequest, member_id: int, payload: MemberRoleIn) -> Membership:
    membership = get_membership_for_user(request, member_id)
    d = validated(MemberRoleForm(form_input(payload.dict()))).cleaned_data
    return services.member_set_role(membership=membership, role=d["role"], by=request.user)


@tenants_router.delete(
    "/members/{int:member_id}",
    response={204: None},
    summary="Remove a member from their tenant; their login is disabled (operators)",
)
def member_remove(request: HttpRequest, member_id: int) -> Status:
    services.member_remove(membership=get_membership_for_user(request, member_id), by=request.user)
    return Status(204, None)
