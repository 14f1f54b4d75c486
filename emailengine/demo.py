"""seed_demo's body: each app seeds its own part, in import order."""

from typing import Any

from campaigns.demo import seed as seed_campaigns
from domains.demo import seed as seed_domains
from ips.demo import seed as seed_ips
from reputation.demo import seed as seed_reputation
from tenants.demo import seed_tenants
from tenants.models import Membership, Tenant
from warmup.demo import seed as seed_warmup


def seed_all(*, password: str) -> dict[str, Any]:
    tenants, logins = seed_tenants(password)
    ips_counts = seed_ips(tenants)
    counts: dict[str, int] = {
        "tenants": Tenant.objects.count(),
        "tenant users": Membership.objects.count(),
        **ips_counts,
        "domains": seed_domains(),
        **seed_reputation(),  # after IPs and domains: its demo sweep covers them
        **seed_campaigns(tenants),  # after IPs: stats point at the demo IPs
        **seed_warmup(),  # after campaigns: the ramp reads the demo stats
    }
    return {
        "counts": counts,
        "logins": [{"username": x.username, "password": x.password, "persona": x.persona} for x in logins],
    }
