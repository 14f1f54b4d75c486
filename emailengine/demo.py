"""seed_demo's body: each app seeds its own part, in import order."""

from typing import Any

from tenants.demo import seed_tenants
from tenants.models import Membership, Tenant


def seed_all(*, password: str) -> dict[str, Any]:
    _, logins = seed_tenants(password)
    counts: dict[str, int] = {
        "tenants": Tenant.objects.count(),
        "tenant users": Membership.objects.count(),
    }
    return {
        "counts": counts,
        "logins": [{"username": x.username, "password": x.password, "persona": x.persona} for x in logins],
    }
