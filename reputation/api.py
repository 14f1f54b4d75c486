"""API routes for blocklists, listings and sweeps.

The same access helpers, forms and services as reputation/views.py.
"""

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from reputation import services
from reputation.access import get_blocklist_for_operator
from reputation.forms import BlocklistForm
from reputation.models import Blocklist, Listing, Sweep
from reputation.selectors import listings_visible
from tenants.access import require_operator
from tenants.api_kit import Page, PageParams, form_input, invalid, paginate, validated

router = Router(tags=["blocklists"])


class BlocklistOut(Schema):
    id: int
    key: str
    name: str
    zone: str
    kind: str
    severity: str
    scope: str = Field(description="What a listing is about: only an `ip` listing can hold an IP")
    reputation: bool = Field(description="A grading list: its answers are grades, never listings")
    enabled: bool
    breaker_tripped_at: datetime | None = Field(
        None, description="Set while the list's circuit breaker is tripped (its listings hold nothing)"
    )
    source_url: str
    delist_url: str
    supports_dqs: bool
    dqs_key_set: bool
    codes: dict
    error_codes: dict
    notes: str
    updated_at: datetime

    @staticmethod
    def resolve_dqs_key_set(obj: Blocklist) -> bool:
        return bool(obj.dqs_key)


class BlocklistUpdateIn(Schema):
    enabled: bool | None = None
    severity: str | None = None
    delist_url: str | None = None
    dqs_key: str | None = Field(None, description="Spamhaus DQS key; stored encrypted, never shown")
    clear_dqs_key: bool = False


@router.get("/blocklists", response=Page[BlocklistOut], summary="The blocklist catalogue (operators)")
def blocklist_list(request: HttpRequest, page: Query[PageParams]) -> dict:
    require_operator(request)
    return paginate(request, Blocklist.objects.order_by("kind", "name"), page)


@router.patch("/blocklists/{int:blocklist_id}", response=BlocklistOut, summary="Enable, grade or key a list")
def blocklist_update(request: HttpRequest, blocklist_id: int, payload: BlocklistUpdateIn) -> Blocklist:
    blocklist = get_blocklist_for_operator(request, blocklist_id)
    data = form_input(BlocklistForm.current(blocklist) | payload.dict(exclude_unset=True))
    form = validated(BlocklistForm(data, blocklist=blocklist))
    return services.blocklist_update(blocklist=blocklist, by=request.user, **form.changes())


class ListingOut(Schema):
    id: int
    target: str
    target_kind: str
    blocklist: str = Field(alias="blocklist.key")
    blocklist_name: str = Field(alias="blocklist.name")
    severity: str = Field(alias="blocklist.severity")
    scope: str = Field(alias="blocklist.scope", description="ip, subnet, asn, ... (only ip can hold an IP)")
    delist_url: str = Field(alias="blocklist.delist_url")
    code: str
    meaning: str
    first_seen: datetime
    last_seen: datetime
    cleared_at: datetime | None
    open: bool
    hold_applied: bool = Field(description="This listing put the IP on hold")

    @staticmethod
    def resolve_open(obj: Listing) -> bool:
        return obj.cleared_at is None


class ListingFilters(Schema):
    state: Literal["open", "cleared", "all"] = Field("open", description="`cleared` or `all` for history")
    target: str = Field("", description="An IP address or domain")
    kind: Literal["", "ip", "domain"] = ""
    blocklist: str = Field("", description="A list's key, e.g. spamhaus-zen")


@router.get("/listings", response=Page[ListingOut], summary="Blocklist listings you can see (and history)")
def listing_list(request: HttpRequest, filters: Query[ListingFilters], page: Query[PageParams]) -> dict:
    target = filters.target.strip()
    if target:
        try:
            target, _ = services.target_kind(target)
        except services.InvalidTarget as exc:
            raise invalid([{"field": "target", "message": str(exc)}]) from None
    qs = listings_visible(
        request, state=filters.state, target=target, kind=filters.kind, blocklist=filters.blocklist
    )
    return paginate(request, qs, page)


class SweepOut(Schema):
    id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    duration: float | None = Field(None, description="Seconds")
    targets: int
    queries: int
    listed: int
    errors: int
    new_listings: int
    cleared: int
    failure: str


@router.get("/sweeps", response=Page[SweepOut], summary="Blocklist sweeps, newest first (operators)")
def sweep_list(request: HttpRequest, page: Query[PageParams]) -> dict:
    require_operator(request)
    return paginate(request, Sweep.objects.order_by("-started_at", "-pk"), page)


class SweepIn(Schema):
    targets: list[str] = Field(
        default_factory=list,
        description="IPs or domains to check now (in the inventory or not; nothing is stored). "
        "Empty: sweep the whole inventory in the background, as the schedule does.",
    )


class ResultOut(Schema):
    target: str
    list: str = Field(alias="list_key")
    zone: str
    status: str = Field(description="listed, clean, error, or reputation (a grade, never a listing)")
    code: str
    meaning: str


class AdhocOut(Schema):
    results: list[ResultOut]


class SweepStarted(Schema):
    started: bool
    detail: str


@router.post(
    "/sweeps",
    response={200: AdhocOut, 202: SweepStarted},
    summary="Check targets against the enabled lists now, or start a full sweep (operators)",
)
def sweep_now(request: HttpRequest, payload: SweepIn) -> Status:
    require_operator(request)
    if payload.targets:
        errors = []
        for n, text in enumerate(payload.targets):
            try:
                services.target_kind(text)
            except services.InvalidTarget as exc:
                errors.append({"field": f"targets[{n}]", "message": str(exc)})
        if errors:
            raise invalid(errors)
        return Status(200, {"results": services.lookup_adhoc(payload.targets)})
    if settings.CELERY_TASK_ALWAYS_EAGER:
        record = services.sweep_run(trigger=Sweep.Trigger.MANUAL)
        return Status(202, {"started": True, "detail": f"sweep {record.pk} finished"})
    from reputation.tasks import sweep_dnsbl

    transaction.on_commit(lambda: sweep_dnsbl.delay(trigger=Sweep.Trigger.MANUAL))
    return Status(202, {"started": True, "detail": "sweep queued; GET /sweeps shows it"})
