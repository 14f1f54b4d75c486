"""Synthetic data at production scale for the dashboard benchmark (seed_scale).

Everything made here is recognisable by the ``scale-`` prefix (tenant slugs, usernames, server names,
domain names, accounting file paths, the audit actor label), so ``scale_wipe`` removes exactly this data
and nothing an operator created. IPs come from 10.0.0.0/8 and domains end in ``.example``: none of it is
ever resolved or contacted.

Speed matters more than realism in the details: rows are written with ``bulk_create`` or, for the big
tables (daily stats, audit events, delivery events), with Postgres ``COPY``. No RSA key is generated per
domain: one keypair is generated and its encrypted PEM is reused by every DKIM key row.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model, Q

from campaigns.accounting.stage import STAGE_COLUMNS
from campaigns.models import AccountingFile, Campaign, DailyStat, DeliveryEvent, Suppression
from core.bulk import quoted_column
from core.crypto import encrypt
from core.dates import utc_today
from core.models import AuditEvent
from domains.dkim_keys import generate_keypair
from domains.models import LIST_CHECKS, CheckStatus, DkimKey, DomainCheck, KeyState, Ownership, SendingDomain
from ips.models import IPAddress, IPPool, IPStatus, MtaServer, hash_token
from reputation.models import Blocklist, CheckState, Kind, Listing
from reputation.models import CheckStatus as ListStatus
from tenants.models import Membership, Tenant
from warmup.models import IPWarmup, WarmupDecision, WarmupPlan

PREFIX = "scale-"
ACTOR = "system: seed_scale"
# Spread over the big mailbox providers so the per-provider breakdowns have several groups.
RCPT_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "orange.fr", "hotmail.fr", "web.de")
BOUNCE_CATEGORIES = ("bad-mailbox", "quota-issues", "spam-related", "policy-related", "bad-domain")
AUDIT_ACTIONS = (
    ("ip.status", "ips.ipaddress"),
    ("ip.limits", "ips.ipaddress"),
    ("ip.move", "ips.ipaddress"),
    ("ip.rdns", "ips.ipaddress"),
    ("dnsbl.listed", "ips.ipaddress"),
    ("dnsbl.cleared", "ips.ipaddress"),
    ("warmup.decision", "ips.ipaddress"),
)


@dataclass(frozen=True)
class ScaleSize:
    tenants: int = 100
    ips: int = 5000
    pools: int = 300
    servers: int = 20
    domains: int = 2000
    days: int = 90
    rcpt_domains: int = 2  # daily stat rows per IP and day
    campaigns_per_tenant: int = 3
    warmup_share: float = 0.2  # of the IPs, warming with a decision history
    warmup_days: int = 30
    audit_events: int = 5000
    delivery_events: int = 20000
    suppressions_per_tenant: int = 100


def scale_exists() -> bool:
    return Tenant.objects.filter(slug__startswith=PREFIX).exists()


# --- helpers --------------------------------------------------------------------------------------


def _copy(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """COPY rows into the model's table (columns named by field); returns the number written."""
    meta = model._meta
    columns = ", ".join(quoted_column(model, name) for name in fields)
    table = connection.ops.quote_name(meta.db_table)
    written = 0
    # The raw psycopg cursor: Django's wrapper has no COPY support.
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _ipv4(index: int) -> str:
    # 10.100.0.1 upwards; index 0 would be a network address, so start at 1.
    index += 1
    return f"10.{100 + (index >> 16)}.{(index >> 8) & 255}.{index & 255}"


def _weighted(rng: random.Random, choices: list[tuple[Any, int]]) -> Any:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


class _Timer:
    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = round(now - self._last, 2)
        self._last = now


# --- wipe -----------------------------------------------------------------------------------------


def scale_wipe() -> dict[str, int]:
    """Delete everything seed_scale made (and only that), children before parents; returns rows per model."""
    tenants = Tenant.objects.filter(slug__startswith=PREFIX)
    servers = MtaServer.objects.filter(name__startswith=PREFIX)
    ips = IPAddress.objects.filter(server__in=servers)
    domains = SendingDomain.objects.filter(Q(tenant__in=tenants) | Q(name__startswith=PREFIX))
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("warmup decisions", lambda: WarmupDecision.objects.filter(warmup__ip__in=ips)),
        ("ip warmups", lambda: IPWarmup.objects.filter(ip__in=ips)),
        ("check states", lambda: CheckState.objects.filter(Q(ip__in=ips) | Q(domain__in=domains))),
        ("listings", lambda: Listing.objects.filter(Q(ip__in=ips) | Q(domain__in=domains))),
        ("daily stats", lambda: DailyStat.objects.filter(Q(tenant__in=tenants) | Q(ip__in=ips))),
        ("delivery events", lambda: DeliveryEvent.objects.filter(tenant__in=tenants)),
        ("suppressions", lambda: Suppression.objects.filter(tenant__in=tenants)),
        ("campaigns", lambda: Campaign.objects.filter(tenant__in=tenants)),
        ("accounting files", lambda: AccountingFile.objects.filter(path__startswith=PREFIX)),
        ("audit events", lambda: AuditEvent.objects.filter(Q(tenant__in=tenants) | Q(actor_label=ACTOR))),
        ("domain checks", lambda: DomainCheck.objects.filter(domain__in=domains)),
        ("dkim keys", lambda: DkimKey.objects.filter(domain__in=domains)),
        ("domains", lambda: domains),
        ("ips", lambda: ips),
        ("pools", lambda: IPPool.objects.filter(Q(server__in=servers) | Q(tenant__in=tenants))),
        ("servers", lambda: servers),
        ("memberships", lambda: Membership.objects.filter(tenant__in=tenants)),
        ("users", lambda: get_user_model().objects.filter(username__startswith=PREFIX)),
        ("tenants", lambda: tenants),
    ]
    deleted: dict[str, int] = {}
    with transaction.atomic():
        for name, qs in steps:
            # Each queryset's own rows; cascades were emptied by the steps before it.
            _, per_model = qs().delete()
            deleted[name] = sum(per_model.values())
    return deleted


# --- build ----------------------------------------------------------------------------------------


def scale_build(size: ScaleSize, *, seed: int = 1, today: date | None = None) -> dict[str, Any]:
    """Create the scale data set; returns {"counts": {...}, "seconds": {...}}. Callers check it is new."""
    rng = random.Random(seed)
    today = today or utc_today()
    timer = _Timer()
    counts: dict[str, int] = {}
    with transaction.atomic():
        tenants = _tenants(size, counts)
        timer.lap("tenants")
        _, _, ips = _inventory(size, rng, tenants, counts)
        timer.lap("ips")
        domains = _domains(size, rng, tenants, today, counts)
        timer.lap("domains")
        _reputation(rng, ips, domains, today, counts)
        timer.lap("reputation")
        campaigns = _campaigns(size, tenants, today, counts)
        timer.lap("campaigns")
        counts["daily stats"] = _copy(DailyStat, DAILY_FIELDS, _daily_rows(size, rng, ips, campaigns, today))
        timer.lap("daily stats")
        _warmup(size, rng, ips, today, counts)
        timer.lap("warmup")
        _delivery(size, rng, tenants, ips, campaigns, today, counts)
        timer.lap("events")
        counts["audit events"] = _copy(AuditEvent, AUDIT_FIELDS, _audit_rows(size, rng, tenants, ips, today))
        timer.lap("audit")
    with connection.cursor() as cursor:
        # Fresh planner statistics and visibility map: the pages are measured right after this, before
        # autovacuum would have run. VACUUM cannot run inside a transaction (tests), ANALYZE can.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    timer.lap("analyze")
    return {"counts": counts, "seconds": timer.steps}


def _tenants(size: ScaleSize, counts: dict[str, int]) -> list[Tenant]:
    tenants = Tenant.objects.bulk_create(
        Tenant(name=f"Scale Tenant {i:03d}", slug=f"{PREFIX}{i:03d}") for i in range(1, size.tenants + 1)
    )
    # Unusable passwords: hashing 100 real ones would take longer than the rest of the seed. The
    # benchmark logs in with force_login.
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{PREFIX}admin-{t.slug[len(PREFIX) :]}", password=make_password(None))
        for t in tenants
    )
    Membership.objects.bulk_create(
        Membership(user=u, tenant=t, role=Membership.Role.ADMIN) for u, t in zip(users, tenants, strict=True)
    )
    counts["tenants"] = len(tenants)
    counts["tenant admins"] = len(users)
    return tenants


IP_STATUS_MIX = [
    (IPStatus.ACTIVE, 60),
    (IPStatus.WARMING, 0),  # chosen separately: exactly warmup_share of the IPs
    (IPStatus.NEW, 8),
    (IPStatus.PAUSED, 5),
    (IPStatus.RETIRED, 4),
]


def _inventory(
    size: ScaleSize, rng: random.Random, tenants: list[Tenant], counts: dict[str, int]
) -> tuple[list[MtaServer], list[IPPool], list[IPAddress]]:
    now = datetime.now(UTC)
    servers = MtaServer.objects.bulk_create(
        MtaServer(
            name=f"{PREFIX}pmta{i:02d}",
            hostname=f"pmta{i:02d}.scale.example",
            webhook_token_hash=hash_token(f"{PREFIX}token-{i}"),
            webhook_token_hint="ee_scal…",  # noqa: S106 - a display hint, not a secret
            health_checked_at=now,
            health_up=i % 10 != 0,
            health_traffic_hour_out_msg=rng.randint(10_000, 500_000),
            health_traffic_hour_out_rcp=rng.randint(10_000, 500_000),
            health_smtp_out_conn=rng.randint(10, 400),
            health_queued_rcp=rng.randint(0, 50_000),
            health_queued_domains=rng.randint(0, 500),
        )
        for i in range(1, size.servers + 1)
    )
    pools = IPPool.objects.bulk_create(
        IPPool(
            name=f"pool-{i:03d}",
            server=servers[i % len(servers)],
            # Every tenant has pools; a few pools are unassigned (operator spares).
            tenant=tenants[i % len(tenants)] if i % 50 != 49 else None,
            description=f"Scale pool {i}",
        )
        for i in range(size.pools)
    )
    warming = set(rng.sample(range(size.ips), int(size.ips * size.warmup_share)))
    others = [(s, w) for s, w in IP_STATUS_MIX if w]
    ips = []
    for i in range(size.ips):
        # 1 in 40 IPs is not in any pool yet (just added to a server).
        pool = pools[i % len(pools)] if i % 40 != 39 else None
        server = pool.server if pool else servers[i % len(servers)]
        status = IPStatus.WARMING if i in warming else _weighted(rng, others)
        address = _ipv4(i)
        ips.append(
            IPAddress(
                address=address,
                hostname=f"mta{i}.scale.example",
                server=server,
                vmta_name=IPAddress.default_vmta_name(address),
                pool=pool,
                status=status,
                paused_from=IPStatus.ACTIVE if status == IPStatus.PAUSED else "",
                status_reason="scale seed",
                daily_limit=rng.choice([500, 2000, 10_000, 50_000]) if status == IPStatus.WARMING else None,
                hourly_limit=None,
                rdns_status=_weighted(rng, [("ok", 90), ("mismatch", 5), ("missing", 3), ("unknown", 2)]),
                rdns_ptr=f"mta{i}.scale.example",
                rdns_checked_at=now,
            )
        )
    ips = IPAddress.objects.bulk_create(ips, batch_size=2000)
    counts |= {"servers": len(servers), "pools": len(pools), "ips": len(ips)}
    return servers, pools, ips


def _domains(
    size: ScaleSize, rng: random.Random, tenants: list[Tenant], today: date, counts: dict[str, int]
) -> list[SendingDomain]:
    now = datetime.now(UTC)
    statuses = [
        (CheckStatus.OK, 80),
        (CheckStatus.WARNING, 8),
        (CheckStatus.MISSING, 6),
        (CheckStatus.INVALID, 3),
    ]
    statuses.append((CheckStatus.UNKNOWN, 3))
    plan: list[tuple[SendingDomain, list[str]]] = []
    for i in range(size.domains):
        name = f"{PREFIX}{i:04d}.example"
        checks = [_weighted(rng, statuses) for _ in LIST_CHECKS]
        worst = max(checks, key=lambda s: ["ok", "unknown", "warning", "missing", "invalid"].index(s))
        domain = SendingDomain(
            tenant=tenants[i % len(tenants)],
            name=name,
            return_path_domain=SendingDomain.default_return_path(name),
            status=worst,
            last_checked_at=now,
            ownership=Ownership.OPERATOR,
            verified_at=now,
        )
        plan.append((domain, checks))
    domains = SendingDomain.objects.bulk_create([d for d, _ in plan], batch_size=2000)
    # One RSA keypair for all: generating 2,000 would take minutes. The ciphertext is computed once too.
    private_pem, public_b64 = generate_keypair(1024)
    ciphertext = encrypt(private_pem)
    keys = [(d.pk, "ee2025a", 1024, ciphertext, public_b64, KeyState.ACTIVE, now, now, now) for d, _ in plan]
    counts["dkim keys"] = _copy(
        DkimKey,
        [
            "domain",
            "selector",
            "bits",
            "private_key",
            "public_key_b64",
            "state",
            "created_at",
            "verified_at",
            "activated_at",
        ],
        keys,
    )
    explanation = {
        "ok": "record found and valid",
        "warning": "weak but working",
        "missing": "no record",
        "invalid": "record does not parse",
        "unknown": "lookup timed out",
    }
    DomainCheck.objects.bulk_create(
        (
            DomainCheck(
                domain=d,
                name=name,
                status=status,
                explanation=explanation[status],
                checked_at=now,
                changed_at=now - timedelta(days=rng.randint(0, 60)),
            )
            for d, checks in plan
            for name, status in zip(LIST_CHECKS, checks, strict=True)
        ),
        batch_size=5000,
    )
    counts["domains"] = len(domains)
    counts["domain checks"] = len(domains) * len(LIST_CHECKS)
    return domains


def _reputation(
    rng: random.Random,
    ips: list[IPAddress],
    domains: list[SendingDomain],
    today: date,
    counts: dict[str, int],
) -> None:
    now = datetime.now(UTC)
    lists = list(Blocklist.objects.all())
    targets: list[tuple[str, str, IPAddress | None, SendingDomain | None, int | None]] = [
        (Kind.IP, ip.address, ip, None, ip.pool.tenant_id if ip.pool else None)
        for ip in ips
        if ip.status != IPStatus.RETIRED
    ]
    targets += [(Kind.DOMAIN, d.name, None, d, d.tenant_id) for d in domains]
    states: list[CheckState] = []
    listings: list[Listing] = []
    for kind, target, ip, domain, tenant_id in targets:
        for blocklist in lists:
            if blocklist.kind != kind:
                continue
            roll = rng.random()
            status = (
                ListStatus.LISTED if roll < 0.004 else ListStatus.ERROR if roll < 0.01 else ListStatus.CLEAN
            )
            common = {
                "target": target,
                "target_kind": kind,
                "ip": ip,
                "domain": domain,
                "blocklist": blocklist,
            }
            code = "127.0.0.2" if status == ListStatus.LISTED else ""
            meaning = "listed" if status == ListStatus.LISTED else ""
            states.append(CheckState(**common, status=status, code=code, meaning=meaning, checked_at=now))
            if status == ListStatus.LISTED:
                first = now - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
                listings.append(
                    Listing(
                        **common,
                        tenant_id=tenant_id,
                        code=code,
                        meaning=meaning,
                        first_seen=first,
                        last_seen=now,
                    )
                )
            # History: some targets were listed before and cleared since.
            if rng.random() < 0.03:
                first = now - timedelta(days=rng.randint(25, 89), hours=rng.randint(0, 23))
                listings.append(
                    Listing(
                        **common,
                        tenant_id=tenant_id,
                        code="127.0.0.2",
                        meaning="listed",
                        first_seen=first,
                        last_seen=first + timedelta(days=2),
                        cleared_at=first + timedelta(days=rng.randint(2, 20)),
                    )
                )
    CheckState.objects.bulk_create(states, batch_size=5000)
    Listing.objects.bulk_create(listings, batch_size=5000)
    counts["check states"] = len(states)
    counts["listings"] = len(listings)
    counts["open listings"] = sum(1 for x in listings if x.cleared_at is None)


def _campaigns(
    size: ScaleSize, tenants: list[Tenant], today: date, counts: dict[str, int]
) -> dict[int, list[Campaign]]:
    start = datetime.combine(today - timedelta(days=size.days - 1), datetime.min.time(), UTC)
    end = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=20)
    made = Campaign.objects.bulk_create(
        Campaign(
            tenant=t,
            key=f"{t.slug}-c{c}",
            name=f"{t.name} campaign {c}",
            first_seen=start,
            last_seen=end - timedelta(days=c),
        )
        for t in tenants
        for c in range(size.campaigns_per_tenant)
    )
    by_tenant: dict[int, list[Campaign]] = {}
    for campaign in made:
        by_tenant.setdefault(campaign.tenant_id, []).append(campaign)  # type: ignore[arg-type]
    counts["campaigns"] = len(made)
    return by_tenant


DAILY_FIELDS = [
    "day",
    "source_ip",
    "vmta",
    "rcpt_domain",
    "campaign_key",
    "tenant",
    "campaign",
    "ip",
    "delivered",
    "hard_bounces",
    "soft_bounces",
    "transient",
    "complaints",
    "received",
    "other",
    "bounce_categories",
    "transient_categories",
]


def _daily_rows(
    size: ScaleSize,
    rng: random.Random,
    ips: list[IPAddress],
    campaigns: dict[int, list[Campaign]],
    today: date,
) -> Iterator[tuple]:
    """One row per sending IP x day x recipient domain, each day credited to one of the tenant's campaigns.

    Written day by day, oldest first, as the importer writes them in production: the table's physical order
    (which the planner's day-range estimates depend on) is then the real one.
    """
    domains = RCPT_DOMAINS[: max(1, size.rcpt_domains)]
    sending = [
        ip
        for ip in ips
        if ip.status not in (IPStatus.NEW, IPStatus.RETIRED) and ip.pool is not None and ip.pool.tenant_id
    ]
    for n in range(size.days):
        day = today - timedelta(days=size.days - 1 - n)
        for ip in sending:
            tenant_id = ip.pool.tenant_id  # type: ignore[union-attr]
            tenant_campaigns = campaigns.get(tenant_id, [])  # type: ignore[arg-type]
            volume = 300 if ip.status == IPStatus.WARMING else 5000
            campaign = tenant_campaigns[n % len(tenant_campaigns)] if tenant_campaigns else None
            for domain in domains:
                delivered = rng.randint(volume // 2, volume * 2)
                hard = rng.randint(0, delivered // 60 + 1)
                soft = rng.randint(0, delivered // 200 + 1)
                cats = {BOUNCE_CATEGORIES[0]: hard, BOUNCE_CATEGORIES[1 + n % 4]: soft}
                yield (
                    day,
                    ip.address,
                    ip.vmta_name,
                    domain,
                    campaign.key if campaign else "",
                    tenant_id,
                    campaign.pk if campaign else None,
                    ip.pk,
                    delivered,
                    hard,
                    soft,
                    rng.randint(0, delivered // 20 + 1),
                    rng.randint(0, delivered // 3000),
                    0,
                    0,
                    json.dumps(cats),
                    "{}",
                )


def _warmup(
    size: ScaleSize, rng: random.Random, ips: list[IPAddress], today: date, counts: dict[str, int]
) -> None:
    plans = list(WarmupPlan.objects.prefetch_related("steps").order_by("pk"))
    if not plans:
        counts["ip warmups"] = counts["warmup decisions"] = 0
        return
    warming = [ip for ip in ips if ip.status == IPStatus.WARMING]
    days = min(size.warmup_days, size.days)
    warmups = []
    for ip in warming:
        plan = plans[ip.pk % len(plans)]
        warmups.append(
            IPWarmup(
                ip=ip,
                plan=plan,
                step=1,
                started_on=today - timedelta(days=days),
                last_decision_on=today,
            )
        )
    warmups = IPWarmup.objects.bulk_create(warmups, batch_size=2000)
    decisions = []
    for warmup in warmups:
        limits = [s.daily_limit for s in warmup.plan.steps.all()] or [1000]
        step = 1
        for back in range(days - 1, -1, -1):
            day = today - timedelta(days=back)
            if rng.random() < 0.8 and step < len(limits):
                action, to, reason = "advance", step + 1, "sent enough with clean rates"
            else:
                action, to, reason = "hold", step, "bounce rate above the hold threshold"
            decisions.append(
                WarmupDecision(
                    warmup=warmup,
                    day=day,
                    action=action,
                    from_step=step,
                    to_step=to,
                    daily_limit=limits[to - 1],
                    reason=reason,
                    numbers={
                        "attempted": rng.randint(0, limits[step - 1]),
                        "bounce_rate": round(rng.random() / 50, 4),
                    },
                )
            )
            step = to
        warmup.step = step
        warmup.last_reason = reason
    WarmupDecision.objects.bulk_create(decisions, batch_size=5000)
    IPWarmup.objects.bulk_update(warmups, ["step", "last_reason"], batch_size=2000)
    counts["ip warmups"] = len(warmups)
    counts["warmup decisions"] = len(decisions)


# The importer's staged row: the same columns, in the same order (rows() below yields them).
EVENT_FIELDS = STAGE_COLUMNS
EVENT_KINDS = [
    ("d", "delivered", "", "2.0.0 (success)", "smtp;250 2.0.0 OK", 50),
    (
        "b",
        "hard_bounce",
        "bad-mailbox",
        "5.1.1 (bad destination mailbox address)",
        "smtp;550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown",
        25,
    ),
    ("b", "soft_bounce", "quota-issues", "4.2.2 (mailbox full)", "smtp;452 4.2.2 Mailbox full", 10),
    (
        "t",
        "transient",
        "policy-related",
        "4.7.0 (delivery not authorized)",
        "smtp;421 4.7.0 [{ip}] temporarily deferred due to unexpected volume",
        12,
    ),
    ("f", "complaint", "", "", "", 3),
]


def scale_address(index: int) -> str:
    """A recipient the delivery events contain (for the message search benchmark)."""
    return f"user{index}@{RCPT_DOMAINS[index % len(RCPT_DOMAINS)]}"


def _delivery(
    size: ScaleSize,
    rng: random.Random,
    tenants: list[Tenant],
    ips: list[IPAddress],
    campaigns: dict[int, list[Campaign]],
    today: date,
    counts: dict[str, int],
) -> None:
    sending = [ip for ip in ips if ip.pool is not None and ip.pool.tenant_id is not None]
    end = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=20)
    kinds = [(k[:5], k[5]) for k in EVENT_KINDS]

    def rows() -> Iterator[tuple]:
        for n in range(size.delivery_events if sending else 0):
            ip = sending[n % len(sending)]
            tenant_id = ip.pool.tenant_id if ip.pool else None
            tenant_campaigns = campaigns.get(tenant_id) if tenant_id is not None else None
            campaign = rng.choice(tenant_campaigns) if tenant_campaigns else None
            rcpt = scale_address(n % max(1, size.delivery_events // 4))
            type_, outcome, cat, status, diag = _weighted(rng, kinds)
            yield (
                end - timedelta(minutes=rng.randint(0, 7 * 24 * 60)),
                type_,
                outcome,
                rcpt,
                rcpt.split("@")[1],
                f"news@{PREFIX}{tenant_id}.example",
                ip.address,
                ip.vmta_name,
                status,
                diag.format(rcpt=rcpt, ip=ip.address),
                cat,
                "abuse" if type_ == "f" else "",
                campaign.key if campaign else "",
                campaign.pk if campaign else None,
                tenant_id,
                ip.server_id,
                ip.pk,
                f"<{n}.{PREFIX}@example>",
                "",
                hashlib.md5(f"{PREFIX}{n}".encode()).hexdigest(),  # noqa: S324
                "",  # env_id
            )

    counts["delivery events"] = _copy(DeliveryEvent, EVENT_FIELDS, rows())
    now = datetime.now(UTC)
    Suppression.objects.bulk_create(
        (
            Suppression(
                tenant=t,
                email=f"gone{n}@{RCPT_DOMAINS[n % len(RCPT_DOMAINS)]}",
                reason=[
                    Suppression.Reason.HARD_BOUNCE,
                    Suppression.Reason.COMPLAINT,
                    Suppression.Reason.MANUAL,
                ][n % 3],
                detail="scale seed",
                created_at=now - timedelta(minutes=n * 37),
                created_by=ACTOR,
            )
            for t in tenants
            for n in range(size.suppressions_per_tenant)
        ),
        batch_size=5000,
    )
    counts["suppressions"] = len(tenants) * size.suppressions_per_tenant
    servers = sorted({ip.server_id for ip in ips})
    files = [
        AccountingFile(
            server_id=server_id,
            path=f"{PREFIX}acct/{server_id}/acct-{day:%Y-%m-%d}.csv",
            size=50_000_000,
            status=AccountingFile.Status.DONE,
            records_read=250_000,
            imported=249_990,
            duplicates=5,
            rejected=5,
            by_type={"d": 200_000, "b": 40_000, "t": 9_990},
            created_at=datetime.combine(day, datetime.min.time(), UTC),
            finished_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23),
            updated_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23),
        )
        for server_id in servers
        for day in (today - timedelta(days=back) for back in range(min(size.days, 10)))
    ]
    AccountingFile.objects.bulk_create(files)
    counts["accounting files"] = len(files)


AUDIT_FIELDS = [
    "created_at",
    "actor_label",
    "tenant",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "reason",
]


def _audit_rows(
    size: ScaleSize, rng: random.Random, tenants: list[Tenant], ips: list[IPAddress], today: date
) -> Iterator[tuple]:
    end = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=20)
    for n in range(size.audit_events if ips else 0):
        ip = ips[n % len(ips)]
        action, object_type = AUDIT_ACTIONS[n % len(AUDIT_ACTIONS)]
        tenant_id = ip.pool.tenant_id if ip.pool else None
        yield (
            end - timedelta(minutes=rng.randint(0, size.days * 24 * 60)),
            ACTOR,
            tenant_id,
            action,
            object_type,
            str(ip.pk),
            ip.address,
            json.dumps({"status": "active"}),
            json.dumps({"status": ip.status}),
            "scale seed",
        )
