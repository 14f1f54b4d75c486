"""Workflows on servers, pools and IPs. Every change is audited; other apps change IPs only through here."""

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.audit import Author, audit_bulk, audit_record, author_parts
from core.bulk import bulk_update_values
from ips.models import IPAddress, IPPool, IPStatus, MtaServer, PmtaCommand, TransitionError
from tenants.models import Tenant

# A /24 (or a /120 for IPv6) is the most one paste may add: a larger block is almost always a typo.
MAX_ADDRESSES_PER_LINE = 256


# --- servers -------------------------------------------------------------------------------------------


@transaction.atomic
def server_create(
    *, name: str, by: Author, hostname: str = "", mgmt_url: str = "", mgmt_api_key: str = "", notes: str = ""
) -> tuple[MtaServer, str]:
    """Create a PMTA host; returns it with its webhook token, which is shown this once only."""
    token = MtaServer.new_token()
    server = MtaServer(
        name=name, hostname=hostname, mgmt_url=mgmt_url, mgmt_api_key=mgmt_api_key, notes=notes
    )
    server.set_webhook_token(token)
    server.save()
    audit_record(
        action="server.create",
        by=by,
        obj=server,
        after={"name": name, "hostname": hostname, "mgmt_url": mgmt_url, "api_key_set": bool(mgmt_api_key)},
    )
    return server, token


@transaction.atomic
def server_update(*, server: MtaServer, by: Author, **changes: Any) -> MtaServer:
    fields = [f for f in ("hostname", "mgmt_url", "mgmt_api_key", "notes") if f in changes]
    before: dict[str, Any] = {f: getattr(server, f) for f in fields if f != "mgmt_api_key"}
    for f in fields:
        setattr(server, f, changes[f])
    server.save(update_fields=fields)
    after: dict[str, Any] = {f: getattr(server, f) for f in fields if f != "mgmt_api_key"}
    if "mgmt_api_key" in fields:
        after["api_key_changed"] = True
    audit_record(action="server.update", by=by, obj=server, before=before, after=after)
    return server


@transaction.atomic
def server_rotate_token(*, server: MtaServer, by: Author) -> str:
    token = MtaServer.new_token()
    old_hint = server.webhook_token_hint
    server.set_webhook_token(token)
    server.save(update_fields=["webhook_token_hash", "webhook_token_hint"])
    audit_record(
        action="server.rotate_token",
        by=by,
        obj=server,
        before={"token": old_hint},
        after={"token": server.webhook_token_hint},
    )
    return token


def server_for_token(token: str) -> MtaServer | None:
    from ips.models import hash_token

    if not token:
        return None
    return MtaServer.objects.filter(webhook_token_hash=hash_token(token)).first()


# --- pools ---------------------------------------------------------------------------------------------


@transaction.atomic
def pool_create(
    *, name: str, server: MtaServer, tenant: Tenant | None, by: Author, description: str = ""
) -> IPPool:
    pool = IPPool.objects.create(name=name, server=server, tenant=tenant, description=description)
    audit_record(
        action="pool.create",
        by=by,
        obj=pool,
        after={"name": name, "server": server.name, "tenant": tenant.slug if tenant else None},
    )
    return pool


@transaction.atomic
def pool_update(*, pool: IPPool, by: Author, tenant: Tenant | None, description: str) -> IPPool:
    before = {"tenant": pool.tenant.slug if pool.tenant else None, "description": pool.description}
    pool.tenant = tenant
    pool.description = description
    pool.save(update_fields=["tenant", "description"])
    after = {"tenant": tenant.slug if tenant else None, "description": description}
    audit_record(action="pool.update", by=by, obj=pool, before=before, after=after)
    return pool


# --- IP lifecycle --------------------------------------------------------------------------------------


@transaction.atomic
def ip_set_status(*, ip: IPAddress, to: str, by: Author, reason: str = "") -> IPAddress:
    """Move an IP through its lifecycle; refuses moves the model does not allow (TransitionError)."""
    was_sending = ip.can_send()
    before = ip.move_to(to, reason=reason)
    if before is None:
        return ip
    ip.save(update_fields=IPAddress.STATUS_FIELDS)
    _queue_hold_commands([(ip, was_sending)], by=by, reason=reason)
    audit_record(
        action="ip.status",
        by=by,
        obj=ip,
        tenant=_tenant(ip),
        before=before,
        after={"status": to},
        reason=reason,
    )
    return ip


def ip_pause(*, ip: IPAddress, by: Author, reason: str) -> IPAddress:
    return ip_set_status(ip=ip, to=IPStatus.PAUSED, by=by, reason=reason)


def ip_resume(*, ip: IPAddress, by: Author, reason: str = "") -> IPAddress:
    if ip.status != IPStatus.PAUSED:
        raise TransitionError(f"{ip.address} is not paused")
    return ip_set_status(ip=ip, to=ip.resume_target, by=by, reason=reason or "resumed")


@transaction.atomic
def ip_move_to_pool(*, ip: IPAddress, pool: IPPool | None, by: Author, reason: str = "") -> IPAddress:
    if pool is not None and pool.server_id != ip.server_id:
        raise TransitionError(
            f"{ip.address} is on {ip.server.name}; pool {pool.name} is on {pool.server.name}"
        )
    before = {"pool": ip.pool.name if ip.pool else None}
    old_tenant = _tenant(ip)
    ip.pool = pool
    ip.save(update_fields=["pool"])
    after = {"pool": pool.name if pool else None}
    audit_record(
        action="ip.move",
        by=by,
        obj=ip,
        tenant=_tenant(ip) or old_tenant,
        before=before,
        after=after,
        reason=reason,
    )
    return ip


@transaction.atomic
def ip_update(*, ip: IPAddress, by: Author, hostname: str) -> IPAddress:
    """Change an IP's HELO/PTR hostname (the one field operators edit by hand)."""
    if ip.hostname == hostname:
        return ip
    before = {"hostname": ip.hostname}
    ip.hostname = hostname
    ip.save(update_fields=["hostname"])
    audit_record(
        action="ip.update", by=by, obj=ip, tenant=_tenant(ip), before=before, after={"hostname": hostname}
    )
    return ip


@transaction.atomic
def ip_set_limits(
    *,
    ip: IPAddress,
    by: Author,
    daily: int | None,
    hourly: int | None,
    per_provider: dict[str, dict[str, int]] | None = None,
    reason: str = "",
) -> IPAddress:
    """The one way other apps (warmup) write an IP's sending limits; rendered into the PMTA config."""
    before = ip.set_limits(daily=daily, hourly=hourly, per_provider=per_provider)
    if before is None:
        return ip
    ip.save(update_fields=IPAddress.LIMIT_FIELDS)
    audit_record(
        action="ip.limits", by=by, obj=ip, tenant=_tenant(ip), before=before, after=ip.limits(), reason=reason
    )
    return ip


def _tenant(ip: IPAddress) -> Tenant | None:
    return ip.pool.tenant if ip.pool_id and ip.pool.tenant_id else None  # type: ignore[union-attr]


# --- bulk add ------------------------------------------------------------------------------------------


@dataclass
class BulkLine:
    line_no: int
    text: str
    addresses: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class BulkPreview:
    lines: list[BulkLine]

    @property
    def addresses(self) -> list[str]:
        return [a for line in self.lines if not line.error for a in line.addresses]

    @property
    def errors(self) -> list[BulkLine]:
        return [line for line in self.lines if line.error]

    @property
    def ok(self) -> bool:
        return bool(self.addresses) and not self.errors


def ips_bulk_preview(*, text: str) -> BulkPreview:
    """Parse pasted IPs and CIDR ranges (one per line, `#` comments) and find every problem before saving."""
    lines: list[BulkLine] = []
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        item = raw.split("#", 1)[0].strip().rstrip(",;")
        if not item:
            continue
        line = BulkLine(line_no=line_no, text=item)
        lines.append(line)
        try:
            line.addresses = _expand(item)
        except ValueError as exc:
            line.error = str(exc)
            continue
        for addr in line.addresses:
            if addr in seen:
                line.error = f"{addr} is already on line {seen[addr]}"
                break
            seen[addr] = line_no
    existing = set(IPAddress.objects.filter(address__in=list(seen)).values_list("address", flat=True))
    for line in lines:
        if not line.error:
            dupes = [a for a in line.addresses if a in existing]
            if dupes:
                shown = ", ".join(dupes[:3]) + (f" and {len(dupes) - 3} more" if len(dupes) > 3 else "")
                line.error = f"already in the inventory: {shown}"
    return BulkPreview(lines=lines)


def _expand(item: str) -> list[str]:
    if "/" in item:
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"'{item}' is not an IP address or CIDR range") from None
        if net.num_addresses > MAX_ADDRESSES_PER_LINE:
            raise ValueError(
                f"{item} has {net.num_addresses} addresses; at most {MAX_ADDRESSES_PER_LINE} per line"
            )
        hosts = list(net.hosts()) if net.version == 4 and net.prefixlen < 31 else list(net)
        return [str(h) for h in hosts]
    try:
        ip = ipaddress.ip_address(item)
    except ValueError:
        raise ValueError(f"'{item}' is not an IP address or CIDR range") from None
    if ip.is_loopback or ip.is_multicast or ip.is_unspecified:
        raise ValueError(f"{ip} cannot be a sending address")
    return [str(ip)]


@transaction.atomic
def ips_bulk_add(
    *,
    server: MtaServer,
    addresses: list[str],
    by: Author,
    pool: IPPool | None = None,
    hostname_template: str = "",
) -> list[IPAddress]:
    """Create the previewed addresses in one transaction; one audit event per IP."""
    if pool is not None and pool.server_id != server.pk:
        raise TransitionError(f"pool {pool.name} is on {pool.server.name}, not {server.name}")
    created = []
    for addr in addresses:
        hostname = (
            hostname_template.replace("{ip}", addr.replace(".", "-").replace(":", "-"))
            if hostname_template
            else ""
        )
        ip = IPAddress.objects.create(
            address=addr,
            server=server,
            pool=pool,
            hostname=hostname,
            vmta_name=IPAddress.default_vmta_name(addr),
        )
        audit_record(
            action="ip.create",
            by=by,
            obj=ip,
            tenant=pool.tenant if pool else None,
            after={"server": server.name, "pool": pool.name if pool else None, "hostname": hostname},
        )
        created.append(ip)
    return created


# --- bulk changes for schedules (the daily warmup ramp touches thousands of IPs) ------------------------


@dataclass
class LimitChange:
    ip: IPAddress
    daily: int | None
    hourly: int | None
    per_provider: dict[str, dict[str, int]] = field(default_factory=dict)
    reason: str = ""


@transaction.atomic
def ips_set_limits_bulk(*, changes: list[LimitChange], by: Author) -> int:
    """ip_set_limits for many IPs in a constant number of queries; IPs must come with pool__tenant loaded."""
    now = timezone.now()
    changed, events = [], []
    for c in changes:
        ip = c.ip
        before = ip.set_limits(daily=c.daily, hourly=c.hourly, per_provider=c.per_provider, now=now)
        if before is None:
            continue
        changed.append(ip)
        events.append(
            {
                "action": "ip.limits",
                "by": by,
                "obj": ip,
                "tenant": _tenant(ip),
                "before": before,
                "after": ip.limits(),
                "reason": c.reason,
            }
        )
    bulk_update_values(changed, list(IPAddress.LIMIT_FIELDS))
    audit_bulk(events)
    return len(changed)


@transaction.atomic
def ips_set_status_bulk(*, changes: list[tuple[IPAddress, str, str]], by: Author) -> list[str]:
    """ip_set_status for many IPs at once; returns the refused moves instead of raising."""
    now = timezone.now()
    changed, events, refused = [], [], []
    was_sending: dict[int, bool] = {}
    for ip, to, reason in changes:
        was_sending[ip.pk] = ip.can_send()
        try:
            before = ip.move_to(to, reason=reason, now=now)
        except TransitionError as exc:
            refused.append(str(exc))
            continue
        if before is None:
            continue
        changed.append(ip)
        events.append(
            {
                "action": "ip.status",
                "by": by,
                "obj": ip,
                "tenant": _tenant(ip),
                "before": before,
                "after": {"status": to},
                "reason": reason,
            }
        )
    bulk_update_values(changed, list(IPAddress.STATUS_FIELDS))
    audit_bulk(events)
    _queue_hold_commands([(ip, was_sending[ip.pk]) for ip in changed], by=by, reason="")
    return refused


# --- PMTA commands for the host agent -------------------------------------------------------------------


def _queue_hold_commands(changes: list[tuple[IPAddress, bool]], *, by: Author, reason: str) -> None:
    """An IP that stops or starts sending: its queues are paused or resumed on PMTA by the host agent.

    ``pmta pause queue */VMTA`` holds every queue of the VirtualMTA and ``resume queue`` releases them (UG5
    6.3.23, 6.3.25; wildcards as in the guide's own example ``*/customer1``). The rendered config holds the
    IP as well (max-smtp-msg-rate 0), so a later reload or restart never undoes a pause.
    """
    label = author_parts(by)[1]
    moves = [(ip, "resume" if ip.can_send() else "pause") for ip, was in changes if ip.can_send() != was]
    # A resume only where our last command to that VirtualMTA paused it: an IP that starts sending for the
    # first time has no paused queues to release.
    resuming = [ip for ip, verb in moves if verb == "resume"]
    paused = set()
    if resuming:
        last: dict[tuple[int, str], str] = {}
        for server_id, args in (
            PmtaCommand.objects.filter(
                server_id__in={ip.server_id for ip in resuming},
                args__2__in=[f"*/{ip.vmta_name}" for ip in resuming],
            )
            .order_by("created_at", "pk")
            .values_list("server_id", "args")
        ):
            last[(server_id, args[2])] = args[0]
        paused = {key for key, verb in last.items() if verb == "pause"}
    commands = []
    for ip, verb in moves:
        target = f"*/{ip.vmta_name}"
        if verb == "resume" and (ip.server_id, target) not in paused:
            continue
        commands.append(
            PmtaCommand(
                server_id=ip.server_id,
                args=[verb, "queue", target],
                reason=(reason or ip.status_reason or f"{ip.address} is {ip.status}")[:300],
                created_by=label[:150],
            )
        )
    PmtaCommand.objects.bulk_create(commands)


# --- one action on many selected IPs (the IP list's bulk form) ------------------------------------------


@dataclass
class BulkOutcome:
    ip: IPAddress
    result: str  # done | unchanged | refused
    message: str


def ips_bulk_apply(
    *, ips: QuerySet[IPAddress], action: str, reason: str, pool: IPPool | None, by: Author
) -> list[BulkOutcome]:
    """Pause, resume or move (to `pool`) each IP on its own, so one refusal does not undo the others."""
    outcomes = []
    for ip in ips.select_related("server", "pool", "pool__tenant").order_by("address"):
        before = ip.status
        try:
            if action == "pause":
                if ip.status == IPStatus.PAUSED:
                    outcomes.append(BulkOutcome(ip, "unchanged", "already paused"))
                    continue
                ip_pause(ip=ip, by=by, reason=reason)
                outcomes.append(BulkOutcome(ip, "done", f"paused (was {before})"))
            elif action == "resume":
                ip_resume(ip=ip, by=by, reason=reason)
                outcomes.append(BulkOutcome(ip, "done", f"resumed to {ip.status}"))
            elif action == "move":
                if ip.pool_id == (pool.pk if pool else None):
                    outcomes.append(BulkOutcome(ip, "unchanged", "already in that pool"))
                    continue
                ip_move_to_pool(ip=ip, pool=pool, by=by, reason=reason)
                outcomes.append(BulkOutcome(ip, "done", f"moved to {pool.name if pool else 'no pool'}"))
            else:
                raise ValueError(f"unknown bulk action {action!r}")
        except TransitionError as exc:
            outcomes.append(BulkOutcome(ip, "refused", str(exc)))
    return outcomes
