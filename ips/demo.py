"""Demo servers, pools and IPs for seed_demo (idempotent, documentation-range addresses only)."""

from ips import services
from ips.models import IPAddress, IPPool, IPStatus, MtaServer
from ips.providers import provider_groups_seed
from tenants.models import Tenant

DEMO_ACTOR = "system: demo"

# (address, pool name, status); statuses go through the lifecycle services so the timeline shows them.
DEMO_IPS = [
    ("203.0.113.10", "sos-main", IPStatus.ACTIVE),
    ("203.0.113.11", "sos-main", IPStatus.ACTIVE),
    ("203.0.113.12", "sos-main", IPStatus.WARMING),
    ("203.0.113.13", "ulixai-main", IPStatus.WARMING),
    ("203.0.113.14", "ulixai-main", IPStatus.NEW),
    ("203.0.113.15", "ulixai-main", IPStatus.PAUSED),
    ("203.0.113.16", "shared-warm", IPStatus.WARMING),
    ("203.0.113.17", "shared-warm", IPStatus.NEW),
    ("2001:db8::10", "shared-warm", IPStatus.NEW),
]

# Paths through the lifecycle to reach each demo status from "new".
STATUS_PATH = {
    IPStatus.NEW: [],
    IPStatus.WARMING: [IPStatus.WARMING],
    IPStatus.ACTIVE: [IPStatus.WARMING, IPStatus.ACTIVE],
    IPStatus.PAUSED: [IPStatus.WARMING, IPStatus.PAUSED],
}


def seed(tenants: list[Tenant]) -> dict[str, int]:
    by_slug = {t.slug: t for t in tenants}
    provider_groups_seed()
    server = MtaServer.objects.filter(name="pmta-1").first()
    if server is None:
        # The token is not printed: rotate it from the server page to connect a real PMTA.
        server, _ = services.server_create(
            name="pmta-1",
            hostname="pmta-1.example.net",
            mgmt_url="http://127.0.0.1:8080",
            by=DEMO_ACTOR,
            notes="Demo server",
        )
    pools = {}
    for name, slug, description in [
        ("sos-main", "sos-expat", "SOS-Expat dedicated IPs"),
        ("ulixai-main", "ulixai", "Ulixai dedicated IPs"),
        ("shared-warm", None, "Unassigned IPs being warmed"),
    ]:
        pool = IPPool.objects.filter(server=server, name=name).first()
        if pool is None:
            pool = services.pool_create(
                name=name,
                server=server,
                tenant=by_slug.get(slug) if slug else None,
                description=description,
                by=DEMO_ACTOR,
            )
        pools[name] = pool
    for address, pool_name, status in DEMO_IPS:
        if IPAddress.objects.filter(address=address).exists():
            continue
        (ip,) = services.ips_bulk_add(
            server=server,
            addresses=[address],
            by=DEMO_ACTOR,
            pool=pools[pool_name],
            hostname_template="mail-{ip}.example.net",
        )
        for to in STATUS_PATH[status]:
            reason = "demo: blocklisted at a major provider" if to == IPStatus.PAUSED else "demo"
            services.ip_set_status(ip=ip, to=to, by=DEMO_ACTOR, reason=reason)
    return {
        "MTA servers": MtaServer.objects.count(),
        "IP pools": IPPool.objects.count(),
        "IPs": IPAddress.objects.count(),
    }
