"""Reads the reputation pages share: the targets x lists grid, a target's history, recent changes.

Scoping goes through the inventory objects (an IP's pool's tenant, a domain's tenant) as they are now, not
through the tenant recorded when a listing was found, so an IP moved to another tenant's pool follows its
new owner. Every read here is a constant number of queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from core.access import Viewer, scoped
from domains.models import SendingDomain
from ips.models import IPAddress, IPStatus
from reputation.models import Blocklist, CheckState, CheckStatus, Kind, Listing, ProviderAccount, Sweep
from tenants.access import actor_for

PROBLEMS = (CheckStatus.LISTED, CheckStatus.ERROR)


# --- scope -------------------------------------------------------------------------------------------------


def visible_ips(request: HttpRequest) -> QuerySet[IPAddress]:
    """The IPs a sweep covers (not retired) that this user may see."""
    return visible_ips_for(actor_for(request))


def visible_ips_for(viewer: Viewer) -> QuerySet[IPAddress]:
    return scoped(viewer, IPAddress.objects.exclude(status=IPStatus.RETIRED), tenant_field="pool__tenant")


def visible_domains(request: HttpRequest) -> QuerySet[SendingDomain]:
    return visible_domains_for(actor_for(request))


def visible_domains_for(viewer: Viewer) -> QuerySet[SendingDomain]:
    return scoped(viewer, SendingDomain.objects.all(), tenant_field="tenant")


def _scope_by_target(request: HttpRequest, qs: QuerySet) -> QuerySet:
    """Listings or check states the user may see, through their IP or domain."""
    actor = actor_for(request)
    if actor.is_operator:
        return qs
    if actor.tenant_id is None:
        return qs.none()
    return qs.filter(Q(ip__pool__tenant_id=actor.tenant_id) | Q(domain__tenant_id=actor.tenant_id))


# --- the overview grid -------------------------------------------------------------------------------------


@dataclass
class Target:
    kind: str
    pk: int
    target: str
    owner: str = ""
    ip_status: str = ""
    listed: bool = False  # on at least one enabled list now
    erring: bool = False  # at least one enabled list gave no verdict

    @property
    def rank(self) -> int:
        """Listed first, then targets without a verdict somewhere, then the rest."""
        return 0 if self.listed else 1 if self.erring else 2


@dataclass
class Cell:
    blocklist: Blocklist
    state: CheckState | None = None
    listing: Listing | None = None

    @property
    def status(self) -> str:
        return self.state.status if self.state is not None else "unchecked"


@dataclass
class GridRow:
    target: Target
    cells: list[Cell] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(1 for cell in self.cells if cell.status in PROBLEMS)

    @property
    def problem_cells(self) -> list[Cell]:
        """Listed cells first, then errors: the row's summary, readable without scrolling to the cell."""
        return sorted(
            (cell for cell in self.cells if cell.status in PROBLEMS),
            key=lambda c: c.status != CheckStatus.LISTED,
        )


def _state_exists(fk: str, statuses: tuple[str, ...]) -> Exists:
    return Exists(
        CheckState.objects.filter(**{fk: OuterRef("pk")}, status__in=statuses, blocklist__enabled=True)
    )


def _problem_exists(fk: str) -> Exists:
    """A listed or failing check on an enabled list: the grid's "only problems" (reputation/home.py too)."""
    return _state_exists(fk, PROBLEMS)


OVERVIEW_ONLY = ("problems", "listed")


def overview_targets(
    request: HttpRequest, *, q: str = "", kind: str = "", problems: bool = False, listed: bool = False
) -> list[Target]:
    """Every visible target matching the filters (two queries at most): listed ones first, then those a
    list gave no verdict for, then the rest; IPs before domains and in address order within each.

    ``problems``: listed or without a verdict on some enabled list; ``listed``: listed somewhere."""
    rows: list[Target] = []
    q = q.strip()
    if kind in ("", Kind.IP):
        ips = visible_ips(request).annotate(
            listed=_state_exists("ip", (CheckStatus.LISTED,)),
            erring=_state_exists("ip", (CheckStatus.ERROR,)),
        )
        if q:
            ips = ips.filter(address__icontains=q)
        if problems:
            ips = ips.filter(_problem_exists("ip"))
        if listed:
            ips = ips.filter(listed=True)
        rows += [
            Target(Kind.IP, pk, address, owner or "", status, is_listed, erring)
            for pk, address, status, owner, is_listed, erring in ips.order_by("address").values_list(
                "pk", "address", "status", "pool__tenant__name", "listed", "erring"
            )
        ]
    if kind in ("", Kind.DOMAIN):
        domains = visible_domains(request).annotate(
            listed=_state_exists("domain", (CheckStatus.LISTED,)),
            erring=_state_exists("domain", (CheckStatus.ERROR,)),
        )
        if q:
            domains = domains.filter(name__icontains=q.lower())
        if problems:
            domains = domains.filter(_problem_exists("domain"))
        if listed:
            domains = domains.filter(listed=True)
        rows += [
            Target(Kind.DOMAIN, pk, name, owner or "", "", is_listed, erring)
            for pk, name, owner, is_listed, erring in domains.order_by("name").values_list(
                "pk", "name", "tenant__name", "listed", "erring"
            )
        ]
    # A stable sort keeps IPs before domains and the address order inside each rank.
    return sorted(rows, key=lambda target: target.rank)


def grid_rows(targets: list[Target], lists: list[Blocklist]) -> dict[str, list[GridRow]]:
    """{kind: rows} for one page of targets, each row with one cell per enabled list of its kind."""
    by_kind: dict[str, list[GridRow]] = {Kind.IP: [], Kind.DOMAIN: []}
    if not targets:
        return by_kind
    ip_ids = [t.pk for t in targets if t.kind == Kind.IP]
    domain_ids = [t.pk for t in targets if t.kind == Kind.DOMAIN]
    where = Q(ip_id__in=ip_ids) | Q(domain_id__in=domain_ids)
    states = {
        (s.ip_id or s.domain_id, s.target_kind, s.blocklist_id): s for s in CheckState.objects.filter(where)
    }
    listings = {
        (x.ip_id or x.domain_id, x.target_kind, x.blocklist_id): x
        for x in Listing.objects.filter(where, cleared_at__isnull=True)
    }
    for target in targets:
        row = GridRow(target)
        for blocklist in lists:
            if blocklist.kind != target.kind:
                continue
            key = (target.pk, target.kind, blocklist.pk)
            row.cells.append(Cell(blocklist, states.get(key), listings.get(key)))
        by_kind[target.kind].append(row)
    return by_kind


def scope_counts(request: HttpRequest) -> dict[str, int]:
    """Listed and error cells, and listed targets, over everything the user may see (one query)."""
    # Only problem cells are counted: they are few, so the scope and retired-IP joins stay small.
    qs = _scope_by_target(
        request,
        CheckState.objects.filter(
            blocklist__enabled=True, status__in=[CheckStatus.LISTED, CheckStatus.ERROR]
        ).exclude(ip__status=IPStatus.RETIRED),
    )
    return qs.aggregate(
        listed=Count("pk", filter=Q(status=CheckStatus.LISTED)),
        errors=Count("pk", filter=Q(status=CheckStatus.ERROR)),
        listed_targets=Count("target", filter=Q(status=CheckStatus.LISTED), distinct=True),
    )


def sweep_status() -> dict[str, Sweep | None]:
    """The last finished sweep and, if one is under way or failed after it, the latest one (two queries)."""
    finished = Sweep.objects.filter(finished_at__isnull=False).first()
    latest = Sweep.objects.first()
    return {"last": finished, "latest": latest if latest is not None and latest != finished else None}


# --- one target --------------------------------------------------------------------------------------------


def target_history(*, kind: str, obj: IPAddress | SendingDomain) -> dict[str, Any]:
    """A target's listings (open and cleared, newest first) and each enabled list's latest verdict."""
    fk = "ip" if kind == Kind.IP else "domain"
    listings = list(Listing.objects.filter(**{fk: obj}).select_related("blocklist"))
    states = {s.blocklist_id: s for s in CheckState.objects.filter(**{fk: obj})}
    open_by_list = {x.blocklist_id: x for x in listings if x.cleared_at is None}
    current = [
        Cell(blocklist, states.get(blocklist.pk), open_by_list.get(blocklist.pk))
        for blocklist in Blocklist.objects.filter(kind=kind, enabled=True).order_by("name")
    ]
    return {"listings": listings, "current": current, "open": len(open_by_list)}


# --- recent changes (home page, dashboards) ----------------------------------------------------------------


@dataclass
class Change:
    when: datetime
    action: str  # listed | cleared
    listing: Listing


def recent_changes(request: HttpRequest, limit: int = 10) -> list[Change]:
    """The latest listings found and cleared that the user may see, newest first (one query: the newest
    found and the newest cleared, each sliced in Postgres, as one UNION ALL)."""
    # The blocklist's name is shown; the IP or domain only as the id of its link (ip_id, domain_id).
    base = _scope_by_target(request, Listing.objects.select_related("blocklist"))
    opened = base.annotate(change=Value("listed")).order_by("-first_seen", "-pk")[:limit]
    cleared = (
        base.filter(cleared_at__isnull=False)
        .annotate(change=Value("cleared"))
        .order_by("-cleared_at", "-pk")[:limit]
    )
    changes = [
        Change(x.first_seen if x.change == "listed" else x.cleared_at, x.change, x)
        for x in opened.union(cleared, all=True)
    ]
    # Newest first; at the same moment a find before a clearing, then the newer listing (a UNION keeps no
    # order of its own).
    changes.sort(key=lambda c: (c.when, c.action == "listed", c.listing.pk), reverse=True)
    return changes[:limit]


def open_listing_count() -> Coalesce:
    """Open listings on enabled lists of one IPAddress row (``OuterRef("pk")``), for the IP list."""
    rows = (
        Listing.objects.filter(ip=OuterRef("pk"), cleared_at__isnull=True, blocklist__enabled=True)
        .order_by()
        .values("ip")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), Value(0))


def open_listings_for_ip(ip: IPAddress) -> list[Listing]:
    return list(Listing.objects.filter(ip=ip, cleared_at__isnull=True).select_related("blocklist"))


def listings_visible(
    request: HttpRequest, *, state: str = "open", target: str = "", kind: str = "", blocklist: str = ""
) -> QuerySet[Listing]:
    """Listings the user may see, newest first: open ones, cleared ones (history) or both (one query)."""
    qs = _scope_by_target(request, Listing.objects.select_related("blocklist"))
    if state == "open":
        qs = qs.filter(cleared_at__isnull=True)
    elif state == "cleared":
        qs = qs.filter(cleared_at__isnull=False)
    if target:
        qs = qs.filter(target=target)
    if kind:
        qs = qs.filter(target_kind=kind)
    if blocklist:
        qs = qs.filter(blocklist__key=blocklist)
    return qs.order_by("-first_seen", "-pk")


def provider_accounts_for(request: HttpRequest) -> QuerySet[ProviderAccount]:
    """The provider accounts the viewer may see (their tenant's; operators: all), with their tenant."""
    return scoped(
        actor_for(request), ProviderAccount.objects.select_related("tenant"), tenant_field="tenant"
    ).order_by("kind", "label", "pk")
