"""Who may see and change what.

The request's viewer (`Actor`) and the role gates. Each app's `access.py` holds one lookup per model, built
on core.access (scope and 404/403) with `actor_for(request)`, so no view can forget the scope.

Operators (staff users) see every tenant. A tenant user sees only their tenant; another tenant's object is a
404, never a 403 that would confirm it exists. A 403 is only for an object the user can see but not change.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from core.access import get_scoped_object_or_404
from tenants.models import Membership, Tenant


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    is_operator: bool
    tenant_id: int | None
    role: str | None

    @property
    def is_tenant_admin(self) -> bool:
        return self.role == Membership.Role.ADMIN

    @property
    def can_manage_tenant_data(self) -> bool:
        """Tenant admins manage their own domains and suppression; operators manage everything."""
        return self.is_operator or self.is_tenant_admin


def actor_for(request: HttpRequest) -> Actor:
    cached = getattr(request, "_actor", None)
    if cached is not None:
        return cached
    user = request.user
    if not user.is_authenticated:
        actor = Actor(None, False, None, None)
    elif user.is_staff:
        actor = Actor(user.pk, True, None, None)
    else:
        membership = Membership.objects.filter(user=user).only("tenant_id", "role").first()
        actor = Actor(
            user.pk,
            False,
            membership.tenant_id if membership else None,
            membership.role if membership else None,
        )
    request._actor = actor  # type: ignore[attr-defined]
    return actor


def require_operator(request: HttpRequest) -> Actor:
    """Operator-only pages answer 404 to everyone else, like objects outside their scope."""
    actor = actor_for(request)
    if not actor.is_operator:
        raise Http404("Not found")
    return actor


def require_writer(request: HttpRequest) -> Actor:
    actor = actor_for(request)
    if not actor.can_manage_tenant_data:
        raise PermissionDenied("Your role cannot change this.")
    return actor


def get_tenant_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> Tenant:
    """A tenant user sees their own tenant (read-only); only operators change tenants."""
    return get_scoped_object_or_404(
        actor_for(request),
        Tenant.objects.all(),
        pk,
        tenant_field="pk",
        write=write,
        write_needs_operator=True,
    )


def get_membership_for_user(request: HttpRequest, pk: object) -> Membership:
    """A tenant's member, to change their role or remove them: operators only (everyone else: 404)."""
    require_operator(request)
    return get_object_or_404(Membership.objects.select_related("user", "tenant"), pk=pk)
