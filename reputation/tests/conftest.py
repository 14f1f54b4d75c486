"""Inventory and DNS fixtures for the reputation tests: two tenants' IPs and domains, a local DNS server."""

import pytest

from reputation.dnsbl.engine import query_name
from testsupport.provider_standins import ProviderStandIn


@pytest.fixture
def inventory(tenant_a, tenant_b):
    from domains.models import SendingDomain
    from ips.models import IPAddress, IPPool, IPStatus, MtaServer

    server = MtaServer(name="pmta-test")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    pool_a = IPPool.objects.create(name="pool-a", server=server, tenant=tenant_a)
    pool_b = IPPool.objects.create(name="pool-b", server=server, tenant=tenant_b)

    def ip(address, pool, status=IPStatus.ACTIVE):
        return IPAddress.objects.create(
            address=address,
            server=server,
            pool=pool,
            status=status,
            vmta_name=IPAddress.default_vmta_name(address),
        )

    class Inventory:
        ip_a = ip("192.0.2.10", pool_a)
        ip_b = ip("192.0.2.20", pool_b)
        ip_retired = ip("192.0.2.30", pool_a, IPStatus.RETIRED)
        dom_a = SendingDomain.objects.create(
            tenant=tenant_a, name="a-sender.example", return_path_domain="bounce.a-sender.example"
        )
        dom_b = SendingDomain.objects.create(
            tenant=tenant_b, name="b-sender.example", return_path_domain="bounce.b-sender.example"
        )

    return Inventory


@pytest.fixture
def dnsbl(dns_server, settings):
    """The local DNS server as the sweep's resolver; helpers to list and unlist targets on it."""
    settings.DNS_NAMESERVERS = [dns_server.nameserver]
    settings.DNSBL_TIMEOUT = 0.3
    settings.DNSBL_HOLD_ON_CRITICAL = True

    class DNSBL:
        server = dns_server

        @staticmethod
        def list(target: str, zone: str, code: str = "127.0.0.2") -> None:
            dns_server.add(query_name(target, zone), "A", code)

        @staticmethod
        def unlist(target: str, zone: str) -> None:
            dns_server.remove(query_name(target, zone))

        @staticmethod
        def behave(target: str, zone: str, behaviour: str | None) -> None:
            dns_server.set_behaviour(query_name(target, zone), behaviour)

    return DNSBL


@pytest.fixture
def standin(settings):
    """Local Google (OAuth, Postmaster Tools v2) and SNDS stand-ins; outbound may reach 127.0.0.1 here."""
    with ProviderStandIn() as server:
        settings.POSTMASTER_API_URL = server.base + "/"
        settings.GOOGLE_OAUTH_TOKEN_URL = server.base + "/token"
        settings.SNDS_DATA_URL = server.base + "/snds/data.aspx"
        settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        yield server
