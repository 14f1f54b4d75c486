"""API routes for campaigns, daily stats and suppressions.

The same access helpers, forms, selectors and services as campaigns/views.py; the suppression export is
the page's own streaming view.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from campaigns import views
from campaigns.access import (
    get_accounting_file_for_user,
    get_campaign_for_user,
    get_rejection_for_user,
    get_suppression_for_user,
    get_suppression_import_for_user,
)
from campaigns.forms import (
    BounceFilterForm,
    CampaignFilterForm,
    DateRangeForm,
    MessageSearchForm,
    RejectionActionForm,
    RejectionFilterForm,
    SuppressionAddForm,
    SuppressionFilterForm,
    SuppressionImportForm,
    SuppressionRemoveForm,
)
from campaigns.models import AccountingFile, Campaign, ImportRejection, Suppression, SuppressionImport
from campaigns.selectors import (
    DIAGNOSTICS_SAMPLE,
    SEARCH_COUNT_CAP,
    STAT_GROUPS,
    accounting_files,
    attach_totals,
    bounce_category_counts,
    bounce_totals,
    campaign_report,
    campaigns_in_range,
    daily_stats,
    daily_stats_count,
    events_filtered,
    import_rejections,
    suppression_imports_visible,
    suppressions_filtered,
    top_diagnostics,
)
from campaigns.services.rejections import (
    REINGEST_MAX,
    ReingestOutcome,
    rejection_dismiss,
    rejection_reingest,
)
from campaigns.services.suppression import (
    SuppressionError,
    normalise_email,
    suppression_add,
    suppression_remove,
)
from campaigns.services.suppression_import import report_of, suppression_import_create
from campaigns.stats import Counts
from campaigns.tasks import suppression_import_enqueue
from tenants.access import require_operator, require_writer
from tenants.api_kit import CappedPage, Page, PageParams, conflict, form_input, paginate, validated

router = Router()


class TotalsOut(Schema):
    """Counts and rates as campaigns/stats.py defines them (the one definition); rates are fractions of 1,
    null when there is nothing to divide by."""

    delivered: int
    hard_bounces: int
    soft_bounces: int
    blocked: int = Field(description="Final refusals about reputation or policy (part of soft bounces)")
    transient: int = Field(description="Deferrals")
    blocked_deferrals: int = Field(description="Deferrals about reputation or policy")
    complaints: int
    attempted: int = Field(description="delivered + hard + soft bounces")
    bounces: int
    delivered_rate: float | None = Field(description="delivered / attempted")
    bounce_rate: float | None = Field(description="(hard + soft bounces) / attempted")
    hard_bounce_rate: float | None = Field(description="hard bounces / attempted")
    block_rate: float | None = Field(description="blocked / attempted")
    complaint_rate: float | None = Field(description="complaints / delivered")
    deferral_rate: float | None = Field(description="deferrals / (attempted + deferrals)")


class RangeIn(Schema):
    start: date | None = Field(None, description="First UTC day (default: 30 days before end)")
    end: date | None = Field(None, description="Last UTC day (default: today)")


def _window(form: DateRangeForm) -> tuple[date, date]:
    data = validated(form).cleaned_data
    return data["start"], data["end"]


# --- campaigns -----------------------------------------------------------------------------------------


class CampaignOut(Schema):
    id: int
    key: str
    name: str
    tenant: str | None = Field(None, alias="tenant.slug")
    first_seen: datetime
    last_seen: datetime
    totals: TotalsOut = Field(description="Over the requested days")


class CampaignFilters(RangeIn):
    q: str = Field("", description="Part of the campaign key or name")


@router.get(
    "/campaigns", response=Page[CampaignOut], tags=["campaigns"], summary="Campaigns active in a range"
)
def campaign_list(request: HttpRequest, filters: Query[CampaignFilters], page: Query[PageParams]) -> dict:
    form = CampaignFilterForm(form_input(filters.dict()))
    start, end = _window(form)
    result = paginate(
        request, campaigns_in_range(request, start=start, end=end, q=form.cleaned_data["q"]), page
    )
    result["items"] = attach_totals(result["items"], start=start, end=end)
    return result


class BreakdownOut(Schema):
    label: str
    totals: TotalsOut
    members: list[str]


class DayTotalsOut(TotalsOut):
    day: date


class CampaignReportOut(Schema):
    campaign: CampaignOut
    start: date
    end: date
    by_provider: list[BreakdownOut]
    by_ip: list[BreakdownOut]
    days: list[DayTotalsOut]


def _day_row(day: date, totals: Counts) -> dict[str, Any]:
    return {"day": day, "bounces": totals.bounces, **totals.numbers()}


@router.get(
    "/campaigns/{int:campaign_id}",
    response=CampaignReportOut,
    tags=["campaigns"],
    summary="A campaign's totals by provider, IP and day",
)
def campaign_detail(request: HttpRequest, campaign_id: int, filters: Query[RangeIn]) -> dict:
    campaign: Campaign = get_campaign_for_user(request, campaign_id)
    start, end = _window(DateRangeForm(form_input(filters.dict())))
    report = campaign_report(campaign, start=start, end=end)
    campaign.totals = report["totals"]  # type: ignore[attr-defined]
    return {
        "campaign": campaign,
        "start": start,
        "end": end,
        "by_provider": report["by_provider"],
        "by_ip": report["by_ip"],
        "days": [_day_row(day, totals) for day, totals in report["days"]],
    }


# --- daily stats ---------------------------------------------------------------------------------------


class StatRowOut(TotalsOut):
    day: date
    key: str = Field(description="The tenant slug, IP address, campaign key or provider")


class StatFilters(RangeIn):
    by: Literal["tenant", "ip", "campaign", "provider"] = Field(description="What each row is per day")
    tenant: str = Field("", description="Only this tenant (slug; operators)")
    ip: str = Field("", description="Only this sending IP")
    campaign: str = Field("", description="Only this campaign key")


@router.get(
    "/stats/daily",
    response=Page[StatRowOut],
    tags=["stats"],
    summary="Daily delivered, bounces, complaints and rates per tenant, IP, campaign or provider",
)
def stats_daily(request: HttpRequest, filters: Query[StatFilters], page: Query[PageParams]) -> dict:
    start, end = _window(DateRangeForm(form_input({"start": filters.start, "end": filters.end})))
    assert filters.by in STAT_GROUPS
    qs = daily_stats(
        request,
        start=start,
        end=end,
        by=filters.by,
        tenant=filters.tenant.strip(),
        ip=filters.ip.strip(),
        campaign=filters.campaign.strip(),
    )
    # By IP, from DailyStat: counted along its (day, IP) index (daily_stats_count); the other groupings
    # either read a rollup or sort by a computed key, where the plain count is the cheaper one.
    count = daily_stats_count(qs) if filters.by == "ip" else None
    result = paginate(request, qs, page, count=count)
    result["items"] = [_stat_row(row) for row in result["items"]]
    return result


def _stat_row(row: dict[str, Any]) -> dict[str, Any]:
    totals = Counts.from_row(row)
    return {"day": row["day"], "key": row["key"] or "", **_day_row(row["day"], totals)}


# --- suppressions --------------------------------------------------------------------------------------


class SuppressionOut(Schema):
    id: int
    email: str
    tenant: str = Field(alias="tenant.slug")
    reason: str
    detail: str
    created_at: datetime
    created_by: str


class SuppressionFilters(Schema):
    email: str = Field("", description="Exactly this address (any case)")
    q: str = Field("", description="Part of an address")
    reason: Literal["", "hard_bounce", "complaint", "manual", "import"] = ""
    tenant: int | None = Field(None, description="Tenant id (operators)")


@router.get(
    "/suppressions", response=Page[SuppressionOut], tags=["suppressions"], summary="Suppressed addresses"
)
def suppression_list(
    request: HttpRequest, filters: Query[SuppressionFilters], page: Query[PageParams]
) -> dict:
    form = validated(SuppressionFilterForm(form_input(filters.dict(exclude={"email"})), request=request))
    qs = suppressions_filtered(request, **form.filters())
    if filters.email.strip():
        qs = qs.filter(email=normalise_email(filters.email))
    return paginate(request, qs, page)


class SuppressionIn(Schema):
    email: str
    detail: str = Field("", description="Why (optional)")
    tenant: int | None = Field(None, description="Tenant id (operators; tenant admins add to their own)")


@router.post(
    "/suppressions", response={201: SuppressionOut}, tags=["suppressions"], summary="Suppress an address"
)
def suppression_create(request: HttpRequest, payload: SuppressionIn) -> Status:
    require_writer(request)
    form = validated(SuppressionAddForm(form_input(payload.dict()), request=request))
    data = form.cleaned_data
    try:
        entry = suppression_add(
            tenant=form.acting_tenant(), email=data["email"], detail=data["detail"], by=request.user
        )
    except SuppressionError as exc:
        raise conflict(str(exc)) from None
    return Status(201, Suppression.objects.select_related("tenant").get(pk=entry.pk))


class RemoveIn(Schema):
    reason: str = Field("", max_length=300, description="Why (optional; kept in the audit log)")


@router.delete(
    "/suppressions/{int:suppression_id}",
    response={204: None},
    tags=["suppressions"],
    summary="Remove an address from the list",
)
def suppression_delete(request: HttpRequest, suppression_id: int, payload: RemoveIn | None = None) -> Status:
    entry = get_suppression_for_user(request, suppression_id, write=True)
    form = validated(SuppressionRemoveForm(form_input((payload or RemoveIn(reason="")).dict())))
    suppression_remove(entry=entry, by=request.user, reason=form.cleaned_data["reason"])
    return Status(204, None)


class ImportErrorOut(Schema):
    line: int
    reason: str
    excerpt: str


class SuppressionImportOut(Schema):
    """A suppression CSV import job (the dashboard's import page runs the same job)."""

    id: int
    tenant: str = Field(alias="tenant.slug")
    filename: str
    status: Literal["new", "running", "done", "failed"]
    percent: int = Field(description="Progress, 0 to 100")
    total_lines: int
    lines: int = Field(description="Data lines read so far")
    added: int
    already: int = Field(description="Already on the list before")
    duplicates: int = Field(description="The same address again in this file")
    errors: int = Field(alias="errors_total")
    first_errors: list[ImportErrorOut] = Field(description="The first bad lines: line, reason, excerpt")
    error: str = Field(description="Why the job failed, when it did")
    created_by: str = Field(alias="created_by_label")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_first_errors(obj: SuppressionImport) -> list[dict[str, Any]]:
        return [{"line": e.line, "reason": e.reason, "excerpt": e.excerpt} for e in report_of(obj).errors]


@router.post(
    "/suppressions/import",
    response={202: SuppressionImportOut},
    tags=["suppressions"],
    summary="Import a CSV of addresses as a background job (multipart: file, and tenant for operators)",
)
def suppression_import(
    request: HttpRequest, file: File[UploadedFile], tenant: Form[int | None] = None
) -> Status:
    require_writer(request)
    data = form_input({"tenant": tenant})
    form = validated(SuppressionImportForm(data, {"file": file}, request=request))
    target = form.acting_tenant()
    upload = form.cleaned_data["file"]
    job = suppression_import_create(tenant=target, data=upload.read(), by=request.user, filename=upload.name)
    suppression_import_enqueue(job.pk)
    return Status(202, get_suppression_import_for_user(request, job.pk))


class ImportJobFilters(Schema):
    status: Literal["", "new", "running", "done", "failed"] = ""


@router.get(
    "/suppressions/imports",
    response=Page[SuppressionImportOut],
    tags=["suppressions"],
    summary="Suppression import jobs, newest first",
)
def suppression_import_list(
    request: HttpRequest, filters: Query[ImportJobFilters], page: Query[PageParams]
) -> dict:
    qs = suppression_imports_visible(request)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return paginate(request, qs, page)


@router.get(
    "/suppressions/imports/{int:import_id}",
    response=SuppressionImportOut,
    tags=["suppressions"],
    summary="One suppression import job: poll it until status is done or failed",
)
def suppression_import_detail(request: HttpRequest, import_id: int) -> SuppressionImport:
    return get_suppression_import_for_user(request, import_id)


@router.get(
    "/suppressions/export",
    tags=["suppressions"],
    summary="The list as CSV, streamed (same filters as the list: q, reason, tenant)",
    response={200: None},
)
def suppression_export(request: HttpRequest) -> StreamingHttpResponse:
    return views.suppression_export(request)


# --- accounting import history and kept records (operators) ----------------------------------------------


class AccountingFileOut(Schema):
    id: int
    kind: str = Field(description="file (a PMTA accounting file) or webhook (one server's posts of a day)")
    path: str
    server: str | None = Field(None, alias="server.name")
    status: str
    size: int
    compressed: bool
    lines: int = Field(description="Lines consumed (header included)")
    records_read: int
    imported: int
    duplicates: int
    rejected: int
    held: int = Field(description="Held aside: sent from another server's IP")
    by_type: dict = Field(description="Imported records per type (d, b, t, f, ...)")
    last_error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class ImportFilters(Schema):
    status: str = Field("", description="new, running, done, failed, ... (empty: all)")


@router.get(
    "/imports", response=Page[AccountingFileOut], tags=["imports"], summary="Accounting import history"
)
def import_list(request: HttpRequest, filters: Query[ImportFilters], page: Query[PageParams]) -> dict:
    require_operator(request)
    qs = accounting_files()
    if filters.status:
        qs = qs.filter(status=filters.status)
    return paginate(request, qs, page)


@router.get(
    "/imports/{int:file_id}",
    response=AccountingFileOut,
    tags=["imports"],
    summary="One accounting source (file or a server's webhook day)",
)
def import_detail(request: HttpRequest, file_id: int) -> AccountingFile:
    return get_accounting_file_for_user(request, file_id)


class RejectionOut(Schema):
    id: int
    file_id: int
    source: str = Field(alias="file.path")
    server: str | None = Field(None, alias="server.name")
    kind: str = Field(description="rejected (could not be read) or mismatch (held: another server's IP)")
    line: int = Field(description="Line in the file, or item number in a webhook body")
    reason: str
    raw: str = Field(description="The start of the record")
    data_size: int
    data_format: str
    complete: bool = Field(description="The whole record is kept (it can be re-ingested)")
    created_at: datetime
    resolution: str = Field(description="Empty while open; imported, dismissed, ... once resolved")
    resolved_at: datetime | None
    resolved_by: str


class RejectionFilters(Schema):
    kind: Literal["", "rejected", "mismatch"] = ""
    status: Literal["open", "resolved", "all"] = "open"
    server: int | None = Field(None, description="Server id")
    source: int | None = Field(None, description="Accounting source id (GET /imports)")
    q: str = Field("", description="Part of the reason or the record")


@router.get(
    "/imports/records",
    response=Page[RejectionOut],
    tags=["imports"],
    summary="Kept accounting records (rejected or held aside), newest first",
)
def rejection_list(request: HttpRequest, filters: Query[RejectionFilters], page: Query[PageParams]) -> dict:
    require_operator(request)
    form = validated(RejectionFilterForm(form_input(filters.dict())))
    return paginate(request, import_rejections(**form.filters()), page)


@router.get(
    "/imports/records/{int:rejection_id}",
    response=RejectionOut,
    tags=["imports"],
    summary="One kept record",
)
def rejection_detail(request: HttpRequest, rejection_id: int) -> ImportRejection:
    return get_rejection_for_user(request, rejection_id)


@router.get(
    "/imports/records/{int:rejection_id}/download",
    response={200: None},
    tags=["imports"],
    summary="A kept record's bytes exactly as they came (CSV: with its header line first)",
)
def rejection_download(request: HttpRequest, rejection_id: int) -> HttpResponse:
    return views.rejection_download(request, rejection_id)


class RecordsIn(Schema):
    ids: list[int] = Field(description=f"Kept record ids (at most {REINGEST_MAX})")


class ReingestIn(RecordsIn):
    by_ip: bool = Field(
        False, description="As their sending IP's own server (accept held mismatches), not the sender's"
    )


class ReingestOut(Schema):
    imported: int
    duplicates: int = Field(description="Already stored: resolved too")
    refused: int = Field(description="Refused again: stay open with the new reason")
    skipped: int = Field(description="Not open, or not kept whole")
    reasons: list[str] = Field(description="The first new reasons")


def _chosen(request: HttpRequest, action: str, ids: list[int]) -> Any:
    """The records the ids name, through the page's own action form (confirmation included)."""
    require_operator(request)
    chosen = list(ImportRejection.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    data = {"action": action, "ids": [str(pk) for pk in ids], "confirm": "on"}
    form = validated(RejectionActionForm(data, choices_from=chosen))
    return ImportRejection.objects.filter(pk__in=form.cleaned_data["ids"]).select_related("server")


@router.post(
    "/imports/records/reingest",
    response=ReingestOut,
    tags=["imports"],
    summary="Import kept records again (the kept-records page's re-ingest)",
)
def rejection_reingest_now(request: HttpRequest, payload: ReingestIn) -> ReingestOutcome:
    action = "reingest_by_ip" if payload.by_ip else "reingest"
    return rejection_reingest(
        rejections=_chosen(request, action, payload.ids), by=request.user, by_ip=payload.by_ip
    )


class DismissOut(Schema):
    dismissed: int


@router.post(
    "/imports/records/dismiss",
    response=DismissOut,
    tags=["imports"],
    summary="Close kept records without importing them (they stay listed as dismissed)",
)
def rejection_dismiss_now(request: HttpRequest, payload: RecordsIn) -> dict:
    count = rejection_dismiss(rejections=_chosen(request, "dismiss", payload.ids), by=request.user)
    return {"dismissed": count}


# --- bounce explorer and message search (the pages' forms, filters and selectors) -------------------------


class CategoryCount(Schema):
    category: str
    bounces: int


class DiagnosticOut(Schema):
    text: str = Field(description="The diagnostic with per-message parts (addresses, IPs, ids) as …")
    category: str = Field(alias="bounce_cat")
    count: int = Field(alias="n")
    hard: int = Field(description="Of which hard bounces")
    sample: str = Field(description="One recipient it happened to (search it under /messages)")
    domains: int = Field(description="Recipient domains it happened at")


class BouncesOut(Schema):
    start: date
    end: date
    totals: TotalsOut
    categories: list[CategoryCount] = Field(description="Bounces per category, most first")
    diagnostics: list[DiagnosticOut] = Field(description="The most frequent texts among the latest bounces")
    diagnostics_sample: int = Field(description="How many of the latest bounces the texts are read from")


class DrillDownIn(Schema):
    """The pages' drill-down filters (the same URL parameters as /bounces/ and /messages/)."""

    tenant: int | None = Field(None, description="Operators: only this tenant (ignored for tenant users)")
    ip: str = Field("", description="Only this sending IP")
    campaign: int | None = Field(None, description="Only this campaign (another tenant's is a 404)")
    provider: str = Field("", description="Only this mailbox provider, e.g. Gmail")
    category: str = Field("", description="Only this bounce category")


class BounceFilters(RangeIn, DrillDownIn):
    start: date | None = Field(None, description="First UTC day (default: 7 days before end)")
    domain: str = Field("", description="Only this recipient domain, e.g. gmail.com")


@router.get(
    "/bounces",
    response=BouncesOut,
    tags=["bounces"],
    summary="The bounce explorer: totals, bounces by category and the top diagnostics over a range",
)
def bounce_explorer(request: HttpRequest, filters: Query[BounceFilters]) -> dict:
    form = validated(BounceFilterForm(form_input(filters.dict()), request=request))
    start, end = form.window()
    chosen = form.event_filters(form.chosen_campaign())
    totals = bounce_totals(request, start=start, end=end, filters=chosen)
    counts = bounce_category_counts(request, start=start, end=end, filters=chosen)
    return {
        "start": start,
        "end": end,
        "totals": {"bounces": totals.bounces, **totals.numbers()},
        "categories": [{"category": c, "bounces": n} for c, n in counts],
        "diagnostics": top_diagnostics(request, start=start, end=end, filters=chosen),
        "diagnostics_sample": DIAGNOSTICS_SAMPLE,
    }


class EventOut(Schema):
    id: int
    time_logged: datetime
    type: str = Field(description="PMTA record type: d, b, t, tq, r, rb, rs, f")
    outcome: str
    rcpt: str
    rcpt_domain: str
    orig: str
    source_ip: str
    vmta: str
    dsn_status: str
    dsn_diag: str
    bounce_cat: str
    feedback_type: str
    campaign_key: str
    campaign_id: int | None
    tenant: str | None = Field(None, alias="tenant.slug")


class MessageFilters(DrillDownIn):
    q: str = Field("", description="A full address, a recipient domain or a sending IP")
    start: date | None = Field(None, description="First UTC day")
    end: date | None = Field(None, description="Last UTC day")


@router.get(
    "/messages",
    response=CappedPage[EventOut],
    tags=["messages"],
    summary="Message search: retained events for an address, a domain, a sending IP or a campaign, narrowed "
    "by tenant, IP, provider, category and days",
)
def message_search(request: HttpRequest, filters: Query[MessageFilters], page: Query[PageParams]) -> dict:
    form = validated(MessageSearchForm(form_input(filters.dict()), request=request))
    campaign = form.chosen_campaign()
    data = form.cleaned_data
    events = events_filtered(
        request,
        q=data["q"],
        campaign=campaign,
        filters=form.event_filters(campaign),
        start=data.get("start"),
        end=data.get("end"),
    )
    return paginate(request, events, page, count_cap=SEARCH_COUNT_CAP)
