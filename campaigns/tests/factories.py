"""Factories and helpers for accounting tests: servers with known tokens, tenant-owned IPs, CSV text."""

from __future__ import annotations

import csv
import io

import factory
from django.utils import timezone

from campaigns.accounting.parser import PMTA5_DEFAULT_HEADER
from campaigns.models import Campaign, Suppression
from ips.models import IPAddress, IPPool, MtaServer
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory
from testsupport.fixtures import PMTA_FIXTURES

FIXTURES = str(PMTA_FIXTURES)

HEADER = list(PMTA5_DEFAULT_HEADER)


def server_with_token(name: str = "mta1") -> tuple[MtaServer, str]:
    server = MtaServerFactory(name=name)
    token = MtaServer.new_token()
    server.set_webhook_token(token)
    server.save(update_fields=["webhook_token_hash", "webhook_token_hint"])
    return server, token


def tenant_ip(tenant, address: str, server: MtaServer | None = None) -> IPAddress:
    """An IP in a pool owned by ``tenant`` (so its records belong to that tenant)."""
    pool = IPPoolFactory(tenant=tenant, **({"server": server} if server else {}))
    return IPAddressFactory(address=address, pool=pool, server=pool.server)


def record(**fields: str) -> dict[str, str]:
    """One record as a dict keyed by PMTA field names, with sensible delivered defaults."""
    base = {
        "type": "d",
        "timeLogged": "2025-07-10 11:58:57+0300",
        "timeQueued": "2025-07-10 11:58:55+0300",
        "orig": "news@send.example.com",
        "rcpt": "anna@example.org",
        "dsnAction": "relayed",
        "dsnStatus": "2.0.0 (success)",
        "dsnDiag": "smtp;250 2.0.0 OK",
        "dlvSourceIp": "203.0.113.10",
        "vmta": "vmta-10",
        "jobId": "camp-1",
    }
    base.update(fields)
    return base


def bounce(rcpt: str, category: str = "bad-mailbox", **fields: str) -> dict[str, str]:
    defaults = {
        "type": "b",
        "rcpt": rcpt,
        "dsnAction": "failed",
        "dsnStatus": "5.1.1 (bad destination mailbox address)",
        "dsnDiag": "smtp;550 5.1.1 user unknown",
        "bounceCat": category,
    }
    return record(**{**defaults, **fields})


def csv_text(records: list[dict[str, str]], header: list[str] | None = None, newline: str = "\n") -> str:
    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for rec in records:
        writer.writerow([rec.get(name, "") for name in header])
    return out.getvalue()


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    key = factory.Sequence(lambda n: f"campaign-{n}")
    tenant = None
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyAttribute(lambda o: o.first_seen)


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    email = factory.Sequence(lambda n: f"gone{n}@example.org")
    reason = Suppression.Reason.MANUAL
    created_by = "tester"


__all__ = [
    "FIXTURES",
    "HEADER",
    "CampaignFactory",
    "IPAddressFactory",
    "IPPool",
    "IPPoolFactory",
    "MtaServerFactory",
    "SuppressionFactory",
    "bounce",
    "csv_text",
    "record",
    "server_with_token",
    "tenant_ip",
]
