"""Reads the IP, pool and server pages share. Every list is scoped and N+1 free."""

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse

from core.access import scoped
from core.app_hooks import app_hooks
from core.models import AuditEvent
from ips.access import IP_TENANT_FIELD
from ips.models import IPAddress, IPPool, IPStatus, MtaServer
from tenants.access import actor_for

STATUSES = [value for value, _ in IPStatus.choices]

# IP lists sort by server, then by address as PostgreSQL `inet` (the column type of GenericIPAddressField):
# numeric per octet, IPv4 before IPv6, so 10.100.0.2 comes before 10.100.0.11. Meta.ordering (vmta_name) is
# text, which put 10.100.0.101 before 10.100.0.11.
IP_LIST_ORDER = ("server__name", "address")


def ips_visible(request: HttpRequest) -> QuerySet[IPAddress]:
    return scoped(
        actor_for(request),
        IPAddress.objects.select_related("server", "pool", "pool__tenant").order_by(*IP_LIST_ORDER),
        tenant_field=IP_TENANT_FIELD,
    )


@dataclass(frozen=True)
class IPColumn:
    """A per-IP figure another app adds to the IP list (7-day sent and rates, open listings), as a SQL
    expression over the IP row (``OuterRef("pk")``, ``OuterRef("address")``), so the list sorts and filters
    by it in the database. An app opts in with an ``ip_columns.py`` module defining
    ``columns(request) -> list[IPColumn]`` (the same discovery as the IP page's cards)."""

    key: str  # the annotation's name and the ?sort= value
    label: str
    expression: Any
    kind: str = "count"  # count | rate: how the list shows it
    title: str = ""  # what the figure is, for the column header
    # A checkbox filter on the list ("listed"): its query parameter, label and condition on the annotation.
    filter_param: str = ""
    filter_label: str = ""
    filter_q: Q | None = None
    order: int = 100
    # Where a non-zero cell leads (the drill-down behind the figure): a URL name, resolved per row with the
    # path kwargs and the query parameters these callables take from the row (the IP), e.g.
    # link="reputation_ip", link_kwargs=lambda ip: {"ip_id": ip.pk}.
    link: str = ""
    link_kwargs: Callable[[Any], dict[str, Any]] | None = None
    link_query: Callable[[Any], dict[str, Any]] | None = None

    def href(self, ip: Any) -> str:
        if not self.link:
            return ""
        url = reverse(self.link, kwargs=self.link_kwargs(ip) if self.link_kwargs else None)
        query = self.link_query(ip) if self.link_query else {}
        return f"{url}?{urlencode(query)}" if query else url


def ip_list_columns(request: HttpRequest) -> list[IPColumn]:
    columns = [c for provider in app_hooks("ip_columns", "columns", skip="ips") for c in provider(request)]
    return sorted(columns, key=lambda c: c.order)


# ?sort= values of the IP list and what they order by; the column keys add theirs. Every order ends with
# IP_LIST_ORDER's address (inet, numeric) and the pk, so pages never shuffle.
IP_SORTS: dict[str, tuple[str, ...]] = {
    "address": ("address",),
    "status": ("status",),
    "pool": ("pool__name",),
    "server": ("server__name",),
    "tenant": ("pool__tenant__name",),
}


def ip_sort_keys(columns: list[IPColumn]) -> list[str]:
    return [*IP_SORTS, *(c.key for c in columns)]


def _order_by(sort: str, columns: list[IPColumn]) -> list[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    fields = IP_SORTS.get(key) or ((key,) if key in {c.key for c in columns} else None)
    if not fields:
        return [*IP_LIST_ORDER, "pk"]
    # Rows without a figure (no traffic, no pool) go last either way.
    ordered = [F(f).desc(nulls_last=True) if descending else F(f).asc(nulls_last=True) for f in fields]
    return [*ordered, "address", "pk"]


def ips_filtered(
    request: HttpRequest,
    filters: dict[str, Any],
    *,
    with_status: bool = True,
    columns: list[IPColumn] | None = None,
) -> QuerySet[IPAddress]:
    """The IP list's rows, with each of ``columns`` annotated, filtered and sorted (``filters["sort"]``);
    `with_status=False` gives the base for the per-status counts."""
    qs = ips_visible(request)
    for column in columns or ():
        qs = qs.annotate(**{column.key: column.expression})
        if column.filter_param and column.filter_q is not None and filters.get(column.filter_param):
            qs = qs.filter(column.filter_q)
    qs = qs.order_by(*_order_by(filters.get("sort") or "", columns or []))
    if filters.get("pool"):
        qs = qs.filter(pool=filters["pool"])
    if filters.get("tenant"):
        qs = qs.filter(pool__tenant=filters["tenant"])
    if filters.get("server"):
        qs = qs.filter(server=filters["server"])
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(Q(address__icontains=q) | Q(hostname__icontains=q) | Q(vmta_name__icontains=q))
    if with_status and filters.get("status"):
        qs = qs.filter(status=filters["status"])
    return qs


def status_counts(qs: QuerySet[IPAddress]) -> dict[str, int]:
    """{status: n} for every status, zeros included, in lifecycle order (one query)."""
    found = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    return {status: found.get(status, 0) for status in STATUSES}


def _count_per(qs: QuerySet, field: str) -> Coalesce:
    """The rows of `qs` whose `field` is the outer row: COUNT(*) in a subquery, so an index on
    (`field`, status) answers it without reading the IPs' rows."""
    rows = qs.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(rows), Value(0))


def _ip_counts(field: str) -> dict[str, Coalesce]:
    """n_total and n_<status> of each server's or pool's IPs (`field`: "server" or "pool")."""
    ips = IPAddress.objects.all()
    return {
        "n_total": _count_per(ips, field),
        **{f"n_{status}": _count_per(ips.filter(status=status), field) for status in STATUSES},
    }


def pools_with_counts(request: HttpRequest) -> QuerySet[IPPool]:
    # One small subquery per count (index-only on ip_pool_status) instead of joining every pool's IPs
    # and grouping them: a page of pools counts only its own IPs, and the list's count is one of pools.
    qs = IPPool.objects.select_related("server", "tenant").annotate(**_ip_counts("pool"))
    qs = qs.order_by("server__name", "name")
    return scoped(actor_for(request), qs, tenant_field="tenant")


def servers_with_counts() -> QuerySet[MtaServer]:
    # One small subquery per count instead of joining pools and IPs: that join multiplied the rows
    # (pools x IPs per server) and the distinct counts then had to sort them away.
    return MtaServer.objects.annotate(
        n_pools=_count_per(IPPool.objects.all(), "server"), **_ip_counts("server")
    ).order_by("name")


def ips_for_vmtas(queues: Iterable[Any]) -> dict[str, IPAddress]:
    """Our IPs behind PMTA queues (`domain/vmta`), by the queue's vmta part: a vmta name, or an IP in older
    setups. Two queries whatever the number of queues (top queues page and API)."""
    names = {q.vmta for q in queues if q.vmta}
    if not names:
        return {}
    known: dict[str, IPAddress] = {}
    for ip in IPAddress.objects.filter(vmta_name__in=names).select_related("server", "pool"):
        known[ip.vmta_name] = ip
    addresses = [n for n in names if n not in known and _looks_like_ip(n)]
    if addresses:
        for ip in IPAddress.objects.filter(address__in=addresses).select_related("server", "pool"):
            known[ip.address] = ip
    return known


def _looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def pool_choices(request: HttpRequest) -> QuerySet[IPPool]:
    # Only what the option labels show: a filter bar may list hundreds of pools.
    qs = IPPool.objects.select_related("server", "tenant").only("name", "server__name", "tenant__name")
    return scoped(actor_for(request), qs, tenant_field="tenant")


def ip_timeline(ip: IPAddress, limit: int = 50) -> QuerySet[AuditEvent]:
    """The IP's history from the audit log (status changes, moves, limits, edits), newest first."""
    return AuditEvent.objects.filter(object_type="ips.ipaddress", object_id=str(ip.pk))[:limit]


def with_counts(obj: Any) -> list[tuple[str, int]]:
    """(status, n) pairs from the n_<status> annotations, for templates."""
    return [(status, getattr(obj, f"n_{status}", 0)) for status in STATUSES]


@dataclass(frozen=True)
class IPBlock:
    """A card another app adds to the IP page ("Warmup", "Blocklist listings", "Delivery stats")."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


def server_detail_blocks(request: HttpRequest, server: MtaServer) -> list[IPBlock]:
    """Cards from other apps on the server page (the traffic trend), in `order`: an app opts in with a
    `server_blocks.py` module defining `blocks(request, server) -> list[IPBlock]` (the IP card shape)."""
    found = [
        block
        for provider in app_hooks("server_blocks", "blocks", skip="ips")
        for block in provider(request, server)
    ]
    return sorted(found, key=lambda b: b.order)


def ip_detail_blocks(request: HttpRequest, ip: IPAddress) -> list[IPBlock]:
    """Cards from other apps, in `order`. An app opts in with an `ip_blocks.py` module defining
    `blocks(request, ip) -> list[IPBlock]`; ips never imports those apps, so dependencies still point at ips.
    """
    providers = app_hooks("ip_blocks", "blocks", skip="ips")
    found = [block for provider in providers for block in provider(request, ip)]
    return sorted(found, key=lambda b: b.order)


# --- PMTA config delivery state (server page, home page, /metrics, API) -----------------------------------

# An agent runs every PMTA_AGENT_INTERVAL seconds (30 by default); one that has not been seen for this long
# is silent. The Prometheus alert (deploy/prometheus/rules) uses the same figure.
AGENT_SILENT_AFTER_S = 300


@dataclass(frozen=True)
class ConfigState:
    """One server's config delivery: what Email Engine wants on it and what its agent last applied."""

    server_id: int
    desired_version: int | None
    desired_at: Any
    applied_version: int | None
    applied_at: Any
    agent_last_seen: Any
    last_error: str
    last_error_at: Any
    pending_commands: int

    @property
    def in_sync(self) -> bool:
        return self.desired_version is not None and self.applied_version == self.desired_version

    @property
    def drift(self) -> bool:
        """A desired version the agent has not applied (yet, or because it failed)."""
        return self.desired_version is not None and self.applied_version != self.desired_version

    def agent_silent(self, now: Any = None) -> bool:
        from django.utils import timezone

        now = now or timezone.now()
        return (
            self.agent_last_seen is None
            or (now - self.agent_last_seen).total_seconds() > AGENT_SILENT_AFTER_S
        )

    @property
    def label(self) -> str:
        if self.agent_last_seen is None:
            return "no agent"
        if self.last_error:
            return "failed"
        if self.agent_silent():
            return "agent silent"
        return "in sync" if self.in_sync else "pending"


def _with_config_state(qs: QuerySet[MtaServer]) -> QuerySet[MtaServer]:
    """The servers with their desired version (latest render) and pending commands, in the same query."""
    from ips.models import PmtaCommand, PmtaConfigRender

    latest = PmtaConfigRender.objects.filter(server=OuterRef("pk")).order_by("-version")
    pending = (
        PmtaCommand.objects.filter(server=OuterRef("pk"), status=PmtaCommand.Status.PENDING)
        .order_by()
        .values("server")
        .annotate(n=Count("id"))
        .values("n")
    )
    return qs.annotate(
        desired_version=Subquery(latest.values("version")[:1]),
        desired_at=Subquery(latest.values("created_at")[:1]),
        n_pending=Coalesce(Subquery(pending), Value(0)),
    )


def _config_state(s: Any) -> ConfigState:
    return ConfigState(
        server_id=s.pk,
        desired_version=s.desired_version,
        desired_at=s.desired_at,
        applied_version=s.config_applied_version,
        applied_at=s.config_applied_at,
        agent_last_seen=s.agent_last_seen,
        last_error=s.agent_last_error,
        last_error_at=s.agent_last_error_at,
        pending_commands=s.n_pending,
    )


def servers_config_state(servers: QuerySet[MtaServer] | None = None) -> dict[int, ConfigState]:
    """{server id: ConfigState} for the given servers (all by default), in one query whatever their number."""
    qs = servers if servers is not None else MtaServer.objects.all()
    return {s.pk: _config_state(s) for s in _with_config_state(qs.order_by())}


def servers_config_behind() -> list[tuple[MtaServer, ConfigState]]:
    """Servers whose PMTA runs an older config than the one rendered for it, by name, in one query.

    Only servers with an agent that has reported: without one nothing is known about what PMTA runs, and the
    home page and the server page already say "no agent".
    """
    rows = _with_config_state(MtaServer.objects.order_by("name"))
    return config_behind([(s, _config_state(s)) for s in rows])


def config_behind(servers: list[tuple[MtaServer, ConfigState]]) -> list[tuple[MtaServer, ConfigState]]:
    """``servers_config_behind`` over servers already read (``servers_with_config_state``)."""
    return [(s, state) for s, state in servers if state.drift and state.agent_last_seen is not None]


def servers_with_config_state() -> list[tuple[MtaServer, ConfigState]]:
    """Every server by name with its IP count (``n_ips``) and its ConfigState, in one query: the home page's
    servers table, its config counts and the drift banner read the same rows."""
    rows = _with_config_state(MtaServer.objects.annotate(n_ips=Count("ips")).order_by("name"))
    return [(s, _config_state(s)) for s in rows]


# The server list's ?config= filters, the home page's counts link to them: {value: what it shows}.
CONFIG_PROBLEMS = {
    "drift": "desired config not applied",
    "silent": "agent silent",
}


def servers_with_config_problem(problem: str, states: dict[int, ConfigState] | None = None) -> list[int]:
    """Ids of the servers with that CONFIG_PROBLEMS problem: drift (a desired version the agent has not
    applied) or a silent agent (``ConfigState.agent_silent``, never seen included)."""
    states = servers_config_state() if states is None else states
    if problem == "drift":
        return [pk for pk, state in states.items() if state.drift]
    if problem == "silent":
        return [pk for pk, state in states.items() if state.agent_silent()]
    return list(states)


def server_config_state(server: MtaServer) -> ConfigState:
    return servers_config_state(MtaServer.objects.filter(pk=server.pk))[server.pk]
