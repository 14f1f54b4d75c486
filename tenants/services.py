"""Workflows on tenants and their members; each one audits itself."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from tenants.audit import Author, audit_record
from tenants.models import Membership, Tenant

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
