"""The one lookup every domain view goes through: tenant scope plus role."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.access import get_scoped_object_or_404
from domains.models import SendingDomain
from tenants.access import actor_for


def get_domain_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> SendingDomain:
    """404 for another tenant's domain; 403 when a viewer asks to change their own tenant's domain."""
    return get_scoped_object_or_404(
        actor_for(request), SendingDomain.objects.select_related("tenant"), pk, write=write
    )


def check_may_force_retire(request: HttpRequest, force: bool) -> None:
    """Retiring a DKIM key before its grace period ends is for operators only."""
    if force and not actor_for(request).is_operator:
        raise PermissionDenied("Only operators may retire a key before its grace period ends.")
