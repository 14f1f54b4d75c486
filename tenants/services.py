"""Workflows on tenants and their members; each one audits itself."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from core.audit import Author, audit_record
from tenants.models import ApiToken, Membership, Tenant, hash_token

User = get_user_model()


@transaction.atomic
def tenant_create(*, name: str, slug: str = "", by: Author) -> Tenant:
    tenant = Tenant.objects.create(name=name.strip(), slug=slug or slugify(name))
    audit_record(action="tenant.create", by=by, obj=tenant, after={"name": tenant.name, "slug": tenant.slug})
    return tenant


@transaction.atomic
def tenant_set_active(*, tenant: Tenant, active: bool, by: Author) -> Tenant:
    before = {"is_active": tenant.is_active}
    tenant.is_active = active
    tenant.save(update_fields=["is_active"])
    audit_record(action="tenant.update", by=by, obj=tenant, before=before, after={"is_active": active})
    return tenant


@transaction.atomic
def member_add(
    *, tenant: Tenant, username: str, email: str, password: str, role: str, by: Author
) -> Membership:
    user = User.objects.create_user(username=username, email=email, password=password)
    membership = Membership.objects.create(user=user, tenant=tenant, role=role)
    audit_record(
        action="member.add", by=by, obj=membership, tenant=tenant, after={"username": username, "role": role}
    )
    return membership


@transaction.atomic
def member_set_role(*, membership: Membership, role: str, by: Author) -> Membership:
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(action="member.role", by=by, obj=membership, before=before, after={"role": role})
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, by: Author) -> None:
    user = membership.user
    audit_record(
        action="member.remove",
        by=by,
        obj=membership,
        before={"username": user.username, "role": membership.role},
    )
    membership.delete()
    # A tenant login without a tenant would be an account that sees nothing; disable it instead.
    user.is_active = False
    user.save(update_fields=["is_active"])


# --- API tokens ----------------------------------------------------------------------------------------

# last_used_at is written at most this often per token: an API client polling every second would
# otherwise turn every read into a write.
API_TOKEN_LAST_USED_GRANULARITY = timedelta(seconds=60)


class TokenError(ValueError):
    pass


@transaction.atomic
def api_token_create(
    *, user: AuthUser, name: str, by: Author, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A personal API token for `user`; returns it with the token itself, which is shown this once only."""
    name = name.strip()
    if not name:
        raise TokenError("A token needs a label.")
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenError("The expiry must be in the future.")
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise TokenError(f"You already have a token called '{name}'.")
    raw = ApiToken.new_token()
    token = ApiToken(user=user, name=name, expires_at=expires_at)
    token.set_token(raw)
    token.save()
    audit_record(
        action="api_token.create",
        by=by,
        obj=token,
        tenant=_tenant_of_user(user),
        after={"user": user.get_username(), "name": name, "hint": token.hint, "expires_at": expires_at},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: Author) -> ApiToken:
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action="api_token.revoke",
        by=by,
        obj=token,
        tenant=_tenant_of_user(token.user),
        before={"name": token.name, "hint": token.hint},
    )
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The usable token behind a bearer string, with its user loaded; records the use.

    Two queries whatever happens, so every API request costs the same.
    """
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(raw)).first()
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_TOKEN_LAST_USED_GRANULARITY)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    return token


def _tenant_of_user(user: AuthUser) -> Tenant | None:
    membership = Membership.objects.filter(user=user).select_related("tenant").first()
    return membership.tenant if membership else None
