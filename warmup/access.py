"""One lookup per model, applying the tenant scope and the role.

An IP's warmup belongs to the IP's pool's tenant: tenant users read it, only operators change it.
"""

from django.http import HttpRequest

from core.access import get_scoped_object_or_404
from tenants.access import actor_for
from warmup.models import IPWarmup


def get_warmup_for_user(request: HttpRequest, pk: int, *, write: bool = False) -> IPWarmup:
    return get_scoped_object_or_404(
        actor_for(request),
        IPWarmup.objects.select_related("ip__pool__tenant", "plan"),
        pk,
        tenant_field="ip__pool__tenant",
        write=write,
        write_needs_operator=True,
    )
