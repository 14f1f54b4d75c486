"""API routes of the tenants app: who the token is, and the audit log."""

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tenants.access import actor_for
from tenants.api_kit import Page, PageParams, paginate, validated
from tenants.forms import AuditFilterForm
from tenants.models import Membership
from tenants.selectors import audit_events
from tenants.views import audit_readable

router = Router(tags=["me", "audit"])


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
