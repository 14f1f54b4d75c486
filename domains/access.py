"""The one lookup every domain view goes through: tenant scope plus role."""

from __future__ import annotations

from django.http import HttpRequest

from domains.models import SendingDomain
from tenants.access import get_scoped_or_404


def get_domain_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> SendingDomain:
    """404 for another tenant's domain; 403 when a viewer asks to change their own tenant's domain."""
    return get_scoped_or_404(request, SendingDomain.objects.select_related("tenant"), pk, write=write)
