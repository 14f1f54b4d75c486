"""factory_boy factories for servers, pools and IPs."""

import ipaddress

import factory

from ips.models import IPAddress, IPPool, MtaServer, hash_token


class MtaServerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MtaServer

    name = factory.Sequence(lambda n: f"pmta-{n}")
    hostname = factory.LazyAttribute(lambda o: f"{o.name}.example.net")
    webhook_token_hash = factory.Sequence(lambda n: hash_token(f"ee_test_token_{n}"))
    webhook_token_hint = "ee_test…"


class IPPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IPPool

    name = factory.Sequence(lambda n: f"pool-{n}")
    server = factory.SubFactory(MtaServerFactory)
    tenant = None


class IPAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IPAddress

    address = factory.Sequence(lambda n: str(ipaddress.ip_address("10.20.0.1") + n))
    server = factory.LazyAttribute(lambda o: o.pool.server if o.pool else MtaServerFactory())
    pool = None
    vmta_name = factory.LazyAttribute(lambda o: IPAddress.default_vmta_name(o.address))
    hostname = factory.LazyAttribute(
        lambda o: "mail-" + o.address.replace(".", "-").replace(":", "-") + ".example.com"
    )
