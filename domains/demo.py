"""Demo sending domains: one per demo tenant, each with an active DKIM key (idempotent)."""

from __future__ import annotations

from domains.models import SendingDomain
from domains.services import domain_create
from tenants.models import Tenant

DEMO_DOMAINS = {"sos-expat": "sos-expat.example", "ulixai": "ulixai.example"}


def seed() -> int:
    """Create the missing demo domains; returns how many demo domains exist."""
    for slug, name in DEMO_DOMAINS.items():
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None or SendingDomain.objects.filter(name=name).exists():
            continue  # key generation is slow-ish: never regenerate an existing domain's key
        # Demo data vouched for by the seeding operator, so the demo PMTA config signs for it.
        domain_create(tenant=tenant, name=name, by="system: seed_demo", skip_verification=True)
    return SendingDomain.objects.filter(name__in=DEMO_DOMAINS.values()).count()
