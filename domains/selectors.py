"""Reads shared by the domain pages and the command."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest

from core.access import scoped
from core.app_hooks import app_hooks
from core.models import AuditEvent
from domains.checks.dmarc import DEFAULT_POLICY
from domains.checks.result import txt_record_line
from domains.checks.spf import suggested_record
from domains.dkim_keys import DEFAULT_TTL, bind_record
from domains.models import (
    LIST_CHECKS,
    PUBLISHED_STATES,
    CheckName,
    CheckStatus,
    DkimKey,
    DomainCheck,
    KeyState,
    SendingDomain,
)
from domains.services import bounce_hosts, pool_ips

# The app-hook lookup the IP page's cards use (moving to core.app_hooks with dash-lists' tenant page).
from ips.selectors import IPBlock
from tenants.access import actor_for


def domains_for_list(request: HttpRequest, q: str = "", *, problems: bool = False) -> QuerySet[SendingDomain]:
    qs = scoped(actor_for(request), SendingDomain.objects.select_related("tenant")).prefetch_related(
        Prefetch("checks", queryset=DomainCheck.objects.only("domain_id", "name", "status", "explanation"))
    )
    if problems:
        qs = qs.filter(status__in=SendingDomain.PROBLEM_STATUSES)
    if q:
        q = q.strip().lower()
        qs = qs.filter(
            Q(name__icontains=q) | Q(return_path_domain__icontains=q) | Q(tenant__name__icontains=q)
        )
    return qs.order_by("name")


def list_badges(domain: SendingDomain) -> list[tuple[str, DomainCheck | None]]:
    """One (label, latest result) per list column, from the prefetched checks (no query)."""
    by_name = {check.name: check for check in domain.checks.all()}
    return [(CheckName(name).label, by_name.get(name)) for name in LIST_CHECKS]


def ordered_checks(domain: SendingDomain) -> list[DomainCheck]:
    return sorted(domain.checks.all(), key=lambda check: check.order)


@dataclass
class Rotation:
    active: DkimKey | None
    pending: DkimKey | None
    retiring: list[DkimKey]
    retired: list[DkimKey]
    pending_check: DomainCheck | None

    @property
    def can_activate(self) -> bool:
        return (
            self.pending is not None
            and self.pending_check is not None
            and (self.pending_check.status == CheckStatus.OK)
        )


def rotation_for(domain: SendingDomain) -> Rotation:
    keys = list(domain.keys.defer("private_key").order_by("-created_at"))
    pending_check = domain.checks.filter(name=CheckName.DKIM_PENDING).first()
    return Rotation(
        active=next((k for k in keys if k.state == KeyState.ACTIVE), None),
        pending=next((k for k in keys if k.state == KeyState.PENDING), None),
        retiring=[k for k in keys if k.state == KeyState.RETIRING],
        retired=[k for k in keys if k.state == KeyState.RETIRED],
        pending_check=pending_check,
    )


def zone_snippet(domain: SendingDomain, checks: list[DomainCheck] | None = None) -> str:
    """Every record to publish for ``domain``, as BIND zone-file lines (absolute names)."""
    by_name = {check.name: check for check in (checks if checks is not None else domain.checks.all())}
    ips = pool_ips(domain.tenant_id)
    lines = [f"; Email Engine: DNS records for {domain.name}", ""]

    lines.append(f"; SPF for the return-path domain {domain.return_path_domain}: authorises the sending IPs")
    lines.append(_spf_line(domain, by_name.get(CheckName.SPF), [ip.address for ip in ips]))
    lines.append("")

    keys = domain.keys.filter(state__in=PUBLISHED_STATES).defer("private_key").order_by("created_at")
    for key in keys:
        lines.append(f"; DKIM selector {key.selector} ({key.get_state_display()})")
        lines.append(bind_record(key.selector, domain.name, key.public_key_b64))
    lines.append("")

    lines.append(f"; DMARC (expected policy p={domain.expected_dmarc_policy})")
    lines.append(_dmarc_line(domain, by_name.get(CheckName.DMARC)))
    lines.append("")

    hosts = bounce_hosts(domain.tenant_id)
    lines.append("; MX of the return-path domain: bounces must reach PMTA")
    if hosts:
        lines.append(f"{domain.return_path_domain}. {DEFAULT_TTL} IN MX 10 {hosts[0].rstrip('.')}.")
    else:
        lines.append(f"; {domain.return_path_domain}. {DEFAULT_TTL} IN MX 10 <your PMTA host>.")

    ptr = by_name.get(CheckName.PTR)
    if ptr is not None and ptr.expected_record:
        lines.append("")
        lines.append(
            "; PTR records are set by whoever owns the IPs (your hosting provider), not in this zone:"
        )
        lines.extend(f"; {line}" for line in ptr.expected_record.splitlines())
    return "\n".join(lines) + "\n"


def _spf_line(domain: SendingDomain, check: DomainCheck | None, addresses: list[str]) -> str:
    if check is not None and check.expected_record:
        return check.expected_record
    if check is not None and check.status == CheckStatus.OK and check.details.get("record"):
        return txt_record_line(domain.return_path_domain, check.details["record"])
    if not addresses:
        # "v=spf1 -all" would forbid all mail: propose nothing until the pool has IPs.
        return (
            f"; {domain.return_path_domain}: no sending IPs in your pools yet; SPF lists them once there are"
        )
    return txt_record_line(
        domain.return_path_domain, suggested_record([ipaddress.ip_address(a) for a in addresses])
    )


def _dmarc_line(domain: SendingDomain, check: DomainCheck | None) -> str:
    name = f"_dmarc.{domain.name}"
    if check is not None and check.expected_record:
        return check.expected_record
    # An inherited record lives at the organizational domain: propose this domain's own record instead.
    usable = check is not None and check.status == CheckStatus.OK and not check.details.get("inherited")
    if usable and check is not None and check.details.get("record"):
        return txt_record_line(name, check.details["record"])
    return txt_record_line(name, f"v=DMARC1; p={domain.expected_dmarc_policy or DEFAULT_POLICY}")


def domain_timeline(domain: SendingDomain, limit: int = 50) -> QuerySet[AuditEvent]:
    """Check changes and rotation steps: every audit event written on this domain."""
    return AuditEvent.objects.filter(object_type="domains.sendingdomain", object_id=str(domain.pk)).order_by(
        "-created_at", "-id"
    )[:limit]


def domain_detail_blocks(request: HttpRequest, domain: SendingDomain) -> list[IPBlock]:
    """Cards from the apps above domains on the domain page (the blocklist listing trend), in `order`: an app
    opts in with a `domain_blocks.py` module defining `blocks(request, domain) -> list[IPBlock]` (the card
    shape the IP page uses); domains never imports those apps."""
    found = [
        block
        for provider in app_hooks("domain_blocks", "blocks", skip="domains")
        for block in provider(request, domain)
    ]
    return sorted(found, key=lambda b: b.order)
