"""Fixtures for the domains app's service, page and command tests (the pure check tests need none)."""

from __future__ import annotations

import pytest

from domains.tests.dnsdata import POOL_IPS, SERVER_HOST


@pytest.fixture
def dns_settings(settings, dns_server):
    """Point every resolver the app builds at the local DNS server, with short timeouts."""
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    settings.DNS_TIMEOUT = 0.4
    return dns_server


@pytest.fixture
def pool_a(tenant_a):
    """Tenant A's pool on one PMTA host with two sending IPs (and one retired IP that must be ignored)."""
    from ips.models import IPAddress, IPPool, IPStatus, MtaServer

    server = MtaServer(name="pmta1", hostname=SERVER_HOST)
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    pool = IPPool.objects.create(name="pool-a", server=server, tenant=tenant_a)
    for address, hostname in POOL_IPS.items():
        IPAddress.objects.create(
            address=address,
            hostname=hostname,
            server=server,
            pool=pool,
            vmta_name=IPAddress.default_vmta_name(address),
            status=IPStatus.ACTIVE,
        )
    IPAddress.objects.create(
        address="192.0.2.99",
        server=server,
        pool=pool,
        vmta_name=IPAddress.default_vmta_name("192.0.2.99"),
        status=IPStatus.RETIRED,
    )
    return pool


@pytest.fixture
def make_domain(tenant_a):
    """make_domain(name, tenant=tenant_a, **kwargs): a domain through the service, 1024-bit key for speed."""
    from domains.services import domain_create

    def _make(name: str = "example.com", tenant=None, **kwargs):
        kwargs.setdefault("key_bits", 1024)
        # Verified unless a test says otherwise: most tests are about DNS checks and signing, not ownership.
        kwargs.setdefault("skip_verification", True)
        return domain_create(tenant=tenant or tenant_a, name=name, by="system: test", **kwargs)

    return _make
