"""API routes for PMTA servers, IP pools and IPs.

The same access helpers, forms and services as ips/views.py: a token can do what its user can do there.
"""

from datetime import datetime
from typing import Any, Literal

from django.db import IntegrityError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from ips import services
from ips.access import get_ip_by_address_for_user, get_pool_for_user, get_server_for_user
from ips.forms import (
    BulkAddForm,
    IPFilterForm,
    IPHostnameForm,
    IPMoveForm,
    IPStatusForm,
    PoolCreateForm,
    PoolEditForm,
    ServerCreateForm,
    ServerEditForm,
)
from ips.health import server_health_poll
from ips.models import IPAddress, IPPool, IPStatus, MtaServer, TransitionError
from ips.pmta_config import (
    config_diff,
    config_digest,
    config_render_and_store,
    diff_stats,
    latest_render,
    render_server_config,
)
from ips.rdns_service import ip_rdns_check
from ips.selectors import (
    STATUSES,
    ConfigState,
    ips_filtered,
    ips_for_vmtas,
    pools_with_counts,
    server_config_state,
    servers_config_state,
    servers_with_counts,
)
from ips.topqueues import TopQueuesError, parse_topqueues
from tenants.access import require_operator
from tenants.api_kit import Page, PageParams, conflict, form_input, invalid, paginate, validated

router = Router()


def _counts(obj: Any) -> dict[str, int]:
    return {status: getattr(obj, f"n_{status}", 0) for status in STATUSES}


# --- servers (operators only; everyone else gets a 404, as on the pages) ----------------------------------


class ServerHealth(Schema):
    checked_at: datetime | None = Field(None, alias="health_checked_at")
    state: str = Field(alias="health_label", description="up, down or unknown")
    error: str = Field(alias="health_error")
    traffic_hour_out_msg: int | None = Field(None, alias="health_traffic_hour_out_msg")
    traffic_hour_out_rcp: int | None = Field(None, alias="health_traffic_hour_out_rcp")
    smtp_out_conn: int | None = Field(None, alias="health_smtp_out_conn")
    queued_rcp: int | None = Field(None, alias="health_queued_rcp")
    queued_domains: int | None = Field(None, alias="health_queued_domains")
    backoff_queues: list = Field(alias="health_backoff_queues")


class ConfigStateOut(Schema):
    """Config delivery (ips.selectors.ConfigState): what Email Engine wants on a host, what its agent did."""

    desired_version: int | None = Field(description="The latest saved render; null before the first")
    desired_at: datetime | None
    applied_version: int | None = Field(description="What the host's agent last reported applied")
    applied_at: datetime | None
    agent_last_seen: datetime | None
    last_error: str = Field(description="The agent's last failure (PMTA's output), empty when none")
    last_error_at: datetime | None
    pending_commands: int
    in_sync: bool
    drift: bool = Field(description="A desired version the agent has not applied (yet, or it failed)")
    label: str = Field(description="no agent, failed, agent silent, in sync or pending")


class ServerOut(Schema):
    id: int
    name: str
    hostname: str
    mgmt_url: str
    mgmt_api_key_set: bool
    webhook_token_hint: str
    notes: str
    created_at: datetime
    health: ServerHealth
    ips: dict[str, int] = Field(description="IPs on this server by status")
    n_ips: int
    n_pools: int
    config: ConfigStateOut | None = Field(description="Config delivery state (see GET .../config)")

    @staticmethod
    def resolve_config(obj: MtaServer) -> ConfigState | None:
        return getattr(obj, "config_state", None)

    @staticmethod
    def resolve_mgmt_api_key_set(obj: MtaServer) -> bool:
        return bool(obj.mgmt_api_key)

    @staticmethod
    def resolve_health(obj: MtaServer) -> MtaServer:
        return obj

    @staticmethod
    def resolve_ips(obj: MtaServer) -> dict[str, int]:
        return _counts(obj)

    @staticmethod
    def resolve_n_ips(obj: MtaServer) -> int:
        return getattr(obj, "n_total", 0)


class ServerCreated(ServerOut):
    webhook_token: str = Field(description="Shown this once; only its hash is kept")


class ServerToken(Schema):
    webhook_token: str = Field(description="Shown this once; only its hash is kept")
    webhook_token_hint: str


class ServerCreateIn(Schema):
    name: str = Field(description="Short name used in commands and configs (a slug)")
    hostname: str = ""
    mgmt_url: str = ""
    mgmt_api_key: str = Field("", description="Sent to PMTA as X-API-Key; stored encrypted, never shown")
    notes: str = ""


class ServerUpdateIn(Schema):
    hostname: str | None = None
    mgmt_url: str | None = None
    mgmt_api_key: str | None = Field(None, description="A new key; omit to keep the stored one")
    clear_api_key: bool = False
    notes: str | None = None


def _with_config_state(servers: list[MtaServer]) -> list[MtaServer]:
    """Each server with its config delivery state: one query for the whole page."""
    states = servers_config_state(MtaServer.objects.filter(pk__in=[s.pk for s in servers]))
    for server in servers:
        server.config_state = states.get(server.pk)  # type: ignore[attr-defined]
    return servers


def _server_row(pk: int) -> MtaServer:
    return _with_config_state([servers_with_counts().get(pk=pk)])[0]


@router.get("/servers", response=Page[ServerOut], tags=["servers"], summary="PMTA servers")
def server_list(request: HttpRequest, page: Query[PageParams]) -> dict:
    require_operator(request)
    result = paginate(request, servers_with_counts(), page)
    result["items"] = _with_config_state(result["items"])
    return result


@router.post("/servers", response={201: ServerCreated}, tags=["servers"], summary="Add a PMTA server")
def server_create(request: HttpRequest, payload: ServerCreateIn) -> Status:
    require_operator(request)
    d = validated(ServerCreateForm(form_input(payload.dict()))).cleaned_data
    server, token = services.server_create(
        name=d["name"],
        hostname=d["hostname"],
        mgmt_url=d["mgmt_url"],
        mgmt_api_key=d["mgmt_api_key"],
        notes=d["notes"],
        by=request.user,
    )
    row = _server_row(server.pk)
    row.webhook_token = token  # type: ignore[attr-defined]
    return Status(201, row)


@router.get("/servers/{int:server_id}", response=ServerOut, tags=["servers"], summary="One PMTA server")
def server_detail(request: HttpRequest, server_id: int) -> MtaServer:
    server = get_server_for_user(request, server_id)
    return _server_row(server.pk)


@router.patch("/servers/{int:server_id}", response=ServerOut, tags=["servers"], summary="Edit a server")
def server_update(request: HttpRequest, server_id: int, payload: ServerUpdateIn) -> MtaServer:
    server = get_server_for_user(request, server_id, write=True)
    given = payload.dict(exclude_unset=True)
    current = {"hostname": server.hostname, "mgmt_url": server.mgmt_url, "notes": server.notes}
    form = validated(ServerEditForm(form_input(current | given)))
    changes = form.changes(server)
    if changes:
        services.server_update(server=server, by=request.user, **changes)
    return _server_row(server.pk)


@router.post(
    "/servers/{int:server_id}/rotate-token",
    response=ServerToken,
    tags=["servers"],
    summary="Replace the server's webhook token (the old one stops working now)",
)
def server_rotate_token(request: HttpRequest, server_id: int) -> dict:
    server = get_server_for_user(request, server_id, write=True)
    token = services.server_rotate_token(server=server, by=request.user)
    return {"webhook_token": token, "webhook_token_hint": server.webhook_token_hint}


@router.post(
    "/servers/{int:server_id}/health/poll",
    response=ServerOut,
    tags=["servers"],
    summary="Poll the server's PMTA management API now (the server page's Poll now)",
)
def server_health_poll_now(request: HttpRequest, server_id: int) -> MtaServer:
    server = get_server_for_user(request, server_id, write=True)
    server_health_poll(server=server)
    return _server_row(server.pk)


# --- rendered PMTA config and its delivery (operators) ---------------------------------------------------


@router.get(
    "/servers/{int:server_id}/config",
    response=ConfigStateOut,
    tags=["servers"],
    summary="Config delivery: desired and applied versions, agent last seen, last error, pending commands",
)
def server_config_state_detail(request: HttpRequest, server_id: int) -> ConfigState:
    return server_config_state(get_server_for_user(request, server_id))


class RenderRef(Schema):
    version: int
    digest: str
    created_at: datetime
    created_by: str


class ConfigRenderOut(Schema):
    digest: str = Field(description="Digest of the config as it renders now")
    files: dict[str, str] = Field(description="{file name: text} as rendered now")
    saved: RenderRef | None = Field(description="The last saved render (desired version); null before one")
    unsaved: bool = Field(description="The config renders differently from the last saved render")
    diff: str = Field(description="Unified diff from the last saved render to now; empty when identical")
    lines_added: int
    lines_removed: int


@router.get(
    "/servers/{int:server_id}/config/render",
    response=ConfigRenderOut,
    tags=["servers"],
    summary="The server's PMTA config as it renders now, and its diff against the last saved render",
)
def server_config_render(request: HttpRequest, server_id: int) -> dict:
    server = get_server_for_user(request, server_id)
    files = render_server_config(server)
    previous = latest_render(server)
    digest = config_digest(files)
    diff = config_diff(previous.files, files) if previous else ""
    added, removed = diff_stats(diff)
    return {
        "digest": digest,
        "files": files,
        "saved": previous,
        "unsaved": previous is None or previous.digest != digest,
        "diff": diff,
        "lines_added": added,
        "lines_removed": removed,
    }


class ConfigSaveOut(Schema):
    saved: RenderRef = Field(description="The render now desired (the previous one when nothing changed)")
    changed: bool
    diff: str
    lines_added: int
    lines_removed: int


@router.post(
    "/servers/{int:server_id}/config/render",
    response=ConfigSaveOut,
    tags=["servers"],
    summary="Save the rendered config as the next version (the host's agent then fetches it)",
)
def server_config_save(request: HttpRequest, server_id: int) -> dict:
    server = get_server_for_user(request, server_id, write=True)
    render, diff = config_render_and_store(server=server, by=request.user)
    added, removed = diff_stats(diff)
    return {
        "saved": render,
        "changed": bool(diff),
        "diff": diff,
        "lines_added": added,
        "lines_removed": removed,
    }


# --- pasted `pmta --dom show topqueues` (operators) ------------------------------------------------------


class TopQueuesIn(Schema):
    output: str = Field(
        max_length=2_000_000, description="The output of `pmta --dom show topqueues` (XML or JSON)"
    )


class QueueEventOut(Schema):
    type: str
    time: str
    text: str


class QueueOut(Schema):
    name: str = Field(description="domain/vmta")
    domain: str
    vmta: str
    recipients: int
    kb: float | None
    connections: int | None
    mode: str
    paused: bool
    retry_time: str
    last_error: str
    events: list[QueueEventOut]
    ip: str | None = Field(description="Our IP behind the queue's vmta, when known")


class TopQueuesOut(Schema):
    title: str
    total_recipients: int | None
    total_queues_with_recipients: int | None
    backoff: int = Field(description="Queues in backoff mode")
    queues: list[QueueOut] = Field(description="Most recipients first")


@router.post(
    "/servers/topqueues",
    response=TopQueuesOut,
    tags=["servers"],
    summary="Read pasted `pmta --dom show topqueues` output: queues by recipients, with our IP behind each",
)
def topqueues_read(request: HttpRequest, payload: TopQueuesIn) -> dict:
    require_operator(request)
    try:
        result = parse_topqueues(payload.output)
    except TopQueuesError as exc:
        raise invalid([{"field": "output", "message": str(exc)}]) from None
    queues = result.by_recipients()
    known = ips_for_vmtas(queues)
    rows = []
    for q in queues:
        ip = known.get(q.vmta)
        rows.append(
            {
                **{f: getattr(q, f) for f in ("name", "domain", "vmta", "recipients", "kb", "connections")},
                **{f: getattr(q, f) for f in ("mode", "paused", "retry_time", "last_error", "events")},
                "ip": ip.address if ip else None,
            }
        )
    return {
        "title": result.title,
        "total_recipients": result.total_recipients,
        "total_queues_with_recipients": result.total_queues_with_recipients,
        "backoff": len(result.backoff),
        "queues": rows,
    }


# --- pools ---------------------------------------------------------------------------------------------


class PoolOut(Schema):
    id: int
    name: str
    server: str = Field(alias="server.name")
    server_id: int
    tenant: str | None = Field(None, alias="tenant.slug", description="The owning tenant's slug")
    tenant_id: int | None
    description: str
    created_at: datetime
    ips: dict[str, int] = Field(description="The pool's IPs by status")
    n_ips: int

    @staticmethod
    def resolve_ips(obj: IPPool) -> dict[str, int]:
        return _counts(obj)

    @staticmethod
    def resolve_n_ips(obj: IPPool) -> int:
        return getattr(obj, "n_total", 0)


class PoolCreateIn(Schema):
    name: str
    server: int = Field(description="Server id")
    tenant: int | None = Field(None, description="Tenant id; null leaves the pool unassigned")
    description: str = ""


class PoolUpdateIn(Schema):
    tenant: int | None = Field(None, description="Tenant id; null unassigns the pool")
    description: str = ""


@router.get("/pools", response=Page[PoolOut], tags=["pools"], summary="IP pools you can see")
def pool_list(request: HttpRequest, page: Query[PageParams]) -> dict:
    return paginate(request, pools_with_counts(request), page)


@router.get("/pools/{int:pool_id}", response=PoolOut, tags=["pools"], summary="One pool")
def pool_detail(request: HttpRequest, pool_id: int) -> IPPool:
    pool = get_pool_for_user(request, pool_id)
    return pools_with_counts(request).get(pk=pool.pk)


@router.post("/pools", response={201: PoolOut}, tags=["pools"], summary="Create a pool")
def pool_create(request: HttpRequest, payload: PoolCreateIn) -> Status:
    require_operator(request)
    d = validated(PoolCreateForm(form_input(payload.dict()))).cleaned_data
    pool = services.pool_create(
        name=d["name"], server=d["server"], tenant=d["tenant"], description=d["description"], by=request.user
    )
    return Status(201, pools_with_counts(request).get(pk=pool.pk))


@router.patch("/pools/{int:pool_id}", response=PoolOut, tags=["pools"], summary="Reassign or describe a pool")
def pool_update(request: HttpRequest, pool_id: int, payload: PoolUpdateIn) -> IPPool:
    pool = get_pool_for_user(request, pool_id, write=True)
    current = {"tenant": pool.tenant_id, "description": pool.description}
    d = validated(PoolEditForm(form_input(current | payload.dict(exclude_unset=True)))).cleaned_data
    services.pool_update(pool=pool, by=request.user, tenant=d["tenant"], description=d["description"])
    return pools_with_counts(request).get(pk=pool.pk)


# --- IPs -----------------------------------------------------------------------------------------------


class PoolRef(Schema):
    id: int
    name: str


class IPLimits(Schema):
    daily: int | None = Field(None, alias="daily_limit")
    hourly: int | None = Field(None, alias="hourly_limit")
    per_provider: dict = Field(alias="provider_limits")
    changed_at: datetime | None = Field(None, alias="limits_changed_at")


class IPRdns(Schema):
    status: str = Field(alias="rdns_status")
    ptr: str = Field(alias="rdns_ptr")
    explanation: str = Field(alias="rdns_explanation")
    checked_at: datetime | None = Field(None, alias="rdns_checked_at")


class IPOut(Schema):
    id: int
    address: str
    version: int
    hostname: str
    vmta_name: str
    server: str = Field(alias="server.name")
    pool: PoolRef | None
    tenant: str | None = Field(None, description="The pool's tenant's slug")
    status: str
    paused_from: str
    status_changed_at: datetime
    status_reason: str
    can_send: bool
    limits: IPLimits
    rdns: IPRdns
    created_at: datetime

    @staticmethod
    def resolve_tenant(obj: IPAddress) -> str | None:
        return obj.pool.tenant.slug if obj.pool_id and obj.pool.tenant_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_can_send(obj: IPAddress) -> bool:
        return obj.can_send()

    @staticmethod
    def resolve_limits(obj: IPAddress) -> IPAddress:
        return obj

    @staticmethod
    def resolve_rdns(obj: IPAddress) -> IPAddress:
        return obj


class IPFilters(Schema):
    q: str = Field("", description="Part of the address, hostname or vmta name")
    status: Literal["", "new", "warming", "active", "paused", "retired"] = ""
    pool: int | None = Field(None, description="Pool id")
    tenant: int | None = Field(None, description="Tenant id (operators)")
    server: int | None = Field(None, description="Server id (operators)")


@router.get("/ips", response=Page[IPOut], tags=["ips"], summary="IPs you can see, filtered")
def ip_list(request: HttpRequest, filters: Query[IPFilters], page: Query[PageParams]) -> dict:
    form = validated(IPFilterForm(form_input(filters.dict()), request=request))
    return paginate(request, ips_filtered(request, form.cleaned_data), page)


@router.get("/ips/{address}", response=IPOut, tags=["ips"], summary="One IP, by address")
def ip_detail(request: HttpRequest, address: str) -> IPAddress:
    return get_ip_by_address_for_user(request, address)


class BulkAddIn(Schema):
    addresses: list[str] = Field(description="IPs and CIDR ranges (at most a /24 each)")
    server: int = Field(description="Server id")
    pool: int | None = Field(None, description="Pool id (on that server)")
    hostname_template: str = Field("", description="e.g. mail-{ip}.example.com")
    dry_run: bool = Field(False, description="Only preview: report what would be added and every problem")


class BulkLineOut(Schema):
    line: int = Field(alias="line_no")
    text: str
    addresses: list[str]
    error: str


class BulkAddOut(Schema):
    added: int
    addresses: list[str]
    lines: list[BulkLineOut]


@router.post(
    "/ips",
    response={200: BulkAddOut, 201: BulkAddOut},
    tags=["ips"],
    summary="Add IPs and CIDR ranges (the bulk-add page's preview rules; nothing is added if any line fails)",
)
def ip_bulk_add(request: HttpRequest, payload: BulkAddIn) -> Status:
    require_operator(request)
    data = payload.dict()
    data["text"] = "\n".join(data.pop("addresses"))
    d = validated(BulkAddForm(form_input(data))).cleaned_data
    preview = services.ips_bulk_preview(text=d["text"])
    if preview.errors or not preview.addresses:
        errors = [
            {"field": f"addresses[{line.line_no - 1}]", "message": line.error} for line in preview.errors
        ]
        raise invalid(errors or [{"field": "addresses", "message": "No addresses given."}])
    if payload.dry_run:
        return Status(200, {"added": 0, "addresses": preview.addresses, "lines": preview.lines})
    try:
        created = services.ips_bulk_add(
            server=d["server"],
            addresses=preview.addresses,
            by=request.user,
            pool=d["pool"],
            hostname_template=d["hostname_template"],
        )
    except IntegrityError:
        raise conflict("Another request added some of these addresses; nothing was added.") from None
    added = [ip.address for ip in created]
    return Status(201, {"added": len(created), "addresses": added, "lines": preview.lines})


class ReasonIn(Schema):
    reason: str = Field("", max_length=300)


class StatusIn(Schema):
    to: Literal["warming", "active", "paused", "resume", "retired", "new"]
    reason: str = Field("", max_length=300, description="Required to pause or retire")


def _set_status(request: HttpRequest, address: str, to: str, reason: str) -> IPAddress:
    ip = get_ip_by_address_for_user(request, address, write=True)
    d = validated(IPStatusForm(form_input({"to": to, "reason": reason}))).cleaned_data
    try:
        if d["to"] == "resume":
            services.ip_resume(ip=ip, by=request.user, reason=d["reason"])
        else:
            services.ip_set_status(ip=ip, to=d["to"], by=request.user, reason=d["reason"])
    except TransitionError as exc:
        raise conflict(str(exc)) from None
    return ip


@router.post("/ips/{address}/status", response=IPOut, tags=["ips"], summary="Move an IP in its lifecycle")
def ip_status(request: HttpRequest, address: str, payload: StatusIn) -> IPAddress:
    return _set_status(request, address, payload.to, payload.reason)


@router.post("/ips/{address}/pause", response=IPOut, tags=["ips"], summary="Pause an IP (reason required)")
def ip_pause(request: HttpRequest, address: str, payload: ReasonIn) -> IPAddress:
    return _set_status(request, address, IPStatus.PAUSED, payload.reason)


@router.post("/ips/{address}/resume", response=IPOut, tags=["ips"], summary="Resume a paused IP")
def ip_resume(request: HttpRequest, address: str, payload: ReasonIn) -> IPAddress:
    return _set_status(request, address, "resume", payload.reason)


@router.post("/ips/{address}/retire", response=IPOut, tags=["ips"], summary="Retire an IP (reason required)")
def ip_retire(request: HttpRequest, address: str, payload: ReasonIn) -> IPAddress:
    return _set_status(request, address, IPStatus.RETIRED, payload.reason)


class MoveIn(Schema):
    pool: int | None = Field(description="Pool id on the IP's server; null takes the IP out of every pool")
    reason: str = Field("", max_length=300)


@router.post("/ips/{address}/move", response=IPOut, tags=["ips"], summary="Move an IP to another pool")
def ip_move(request: HttpRequest, address: str, payload: MoveIn) -> IPAddress:
    ip = get_ip_by_address_for_user(request, address, write=True)
    d = validated(IPMoveForm(form_input(payload.dict()), server=ip.server)).cleaned_data
    if d["pool"] != ip.pool:
        try:
            services.ip_move_to_pool(ip=ip, pool=d["pool"], by=request.user, reason=d["reason"])
        except TransitionError as exc:
            raise conflict(str(exc)) from None
    return ip


class IPUpdateIn(Schema):
    hostname: str = Field(description="HELO / PTR hostname")


@router.post(
    "/ips/{address}/rdns/check",
    response=IPOut,
    tags=["ips"],
    summary="Check the IP's reverse DNS (PTR, and that it resolves back) now",
)
def ip_rdns_check_now(request: HttpRequest, address: str) -> IPAddress:
    ip = get_ip_by_address_for_user(request, address, write=True)
    ip_rdns_check(ip=ip, by=request.user)
    return ip


@router.patch("/ips/{address}", response=IPOut, tags=["ips"], summary="Change an IP's hostname")
def ip_update(request: HttpRequest, address: str, payload: IPUpdateIn) -> IPAddress:
    ip = get_ip_by_address_for_user(request, address, write=True)
    d = validated(IPHostnameForm(form_input(payload.dict()))).cleaned_data
    return services.ip_update(ip=ip, by=request.user, hostname=d["hostname"].strip())
