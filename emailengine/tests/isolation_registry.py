"""How to make an object owned by a given tenant, for each object id a URL pattern takes.

The tenant-isolation test walks the whole URLconf; a new `<int:something_id>` URL fails that test until
its kwarg has a factory here, so no page escapes the check.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model

from tenants.models import Membership, Tenant


def _member(tenant: Tenant) -> int:
    n = Membership.objects.count() + 1
    user = get_user_model().objects.create_user(username=f"iso-member-{tenant.slug}-{n}")
    return Membership.objects.create(user=user, tenant=tenant, role="viewer").pk


OBJECT_FACTORIES: dict[str, Callable[[Tenant], int]] = {
    "tenant_id": lambda tenant: tenant.pk,
    "member_id": _member,
}
