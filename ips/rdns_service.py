"""Run the rDNS check (ips/rdns.py) for inventory IPs and keep the latest answer on the IP."""

from __future__ import annotations

import dns.resolver
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.audit import Author, audit_record
from core.dnsresolver import make_resolver
from ips.models import IPAddress
from ips.rdns import RdnsResult, check_rdns

__all__ = ["ip_rdns_check", "rdns_resolver"]

SYSTEM_ACTOR = "system: rdns check"
RDNS_FIELDS = ["rdns_status", "rdns_ptr", "rdns_explanation", "rdns_checked_at"]


def rdns_resolver() -> dns.resolver.Resolver:
    """A resolver for the operator's DNS_NAMESERVERS (never /etc/resolv.conf)."""
    return make_resolver(settings.DNS_NAMESERVERS, timeout=settings.DNS_TIMEOUT)


def ip_rdns_check(
    *, ip: IPAddress, resolver: dns.resolver.Resolver | None = None, by: Author = SYSTEM_ACTOR
) -> RdnsResult:
    """Check ``ip``'s PTR (against its hostname when set), store it, audit when the status changed."""
    result = check_rdns(
        ip.address, resolver=resolver or rdns_resolver(), expected_hostname=ip.hostname or None
    )
    # The DNS queries run outside the transaction; only the write is atomic.
    with transaction.atomic():
        before = {"status": ip.rdns_status, "ptr": ip.rdns_ptr}
        ip.rdns_status = result.status
        ip.rdns_ptr = result.ptr[:253]
        ip.rdns_explanation = result.explanation[:300]
        ip.rdns_checked_at = timezone.now()
        ip.save(update_fields=RDNS_FIELDS)
        if before["status"] != result.status:
            pool = ip.pool if ip.pool_id else None
            audit_record(
                action="ip.rdns",
                by=by,
                obj=ip,
                tenant=pool.tenant if pool is not None and pool.tenant_id else None,
                before=before,
                after={"status": result.status, "ptr": ip.rdns_ptr},
                reason=ip.rdns_explanation,
            )
    return result
