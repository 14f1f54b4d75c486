"""Campaign, bounce, message-search, suppression and import-history pages.

Views stay thin: lookups in access, reads in selectors, changes in services (suppression). Every list is
scoped to the user's tenant (operators see all); import history is operator-only.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from campaigns import selectors
from campaigns.access import (
    get_accounting_file_for_user,
    get_campaign_for_user,
    get_rejection_for_user,
    get_suppression_for_user,
    get_suppression_import_for_user,
)
from campaigns.accounting.importer import csv_header_line
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
from campaigns.models import ImportRejection
from campaigns.selectors import (
    BROAD_SEARCH_DAYS,
    SEARCH_COUNT_CAP,
    accounting_files,
    attach_totals,
    bounce_category_counts,
    bounce_totals,
    campaign_report,
    campaigns_in_range,
    category_chart,
    events_filtered,
    import_rejections,
    search_days,
    search_kind,
    search_windows,
    suppression_imports_visible,
    suppression_reason_counts,
    suppressions_filtered,
    suppressions_for_address,
    top_diagnostics,
)
from campaigns.services.rejections import rejection_dismiss, rejection_reingest
from campaigns.services.suppression import (
    SuppressionError,
    suppression_add,
    suppression_export_rows,
    suppression_remove,
)
from campaigns.services.suppression_import import report_of, suppression_import_create
from campaigns.tasks import suppression_import_enqueue
from core.dates import utc_today
from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from tenants.access import actor_for, require_operator, require_writer

# Detail pages chart at most this many days when no range is given.
DETAIL_MAX_DAYS = 92


def _partial(request: HtmxRequest, template: str, target: str, partial: str) -> str:
    """The htmx swap of `target` renders only that partial of the page's template."""
    if request.htmx and request.htmx.target == target:
        return f"{template}#{partial}"
    return template


# --- campaigns ---------------------------------------------------------------------------------------------


@require_GET
def campaign_list(request: HtmxRequest) -> HttpResponse:
    form = CampaignFilterForm(request.GET or None)
    start, end = form.window()
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    page = paginate(request, campaigns_in_range(request, start=start, end=end, q=q))
    page.object_list = attach_totals(list(page.object_list), start=start, end=end)
    context = {"form": form, "page": page, "qs": query_without_page(request), "start": start, "end": end}
    return render(
        request, _partial(request, "campaigns/campaign_list.html", "campaign-results", "results"), context
    )


@require_GET
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, campaign_id)
    form = DateRangeForm(request.GET or None)
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    else:
        # Default: the campaign's own span (UTC days), at most DETAIL_MAX_DAYS up to its last activity.
        end = min(campaign.last_seen.astimezone(UTC).date(), utc_today())
        start = max(campaign.first_seen.astimezone(UTC).date(), end - timedelta(days=DETAIL_MAX_DAYS - 1))
        start = min(start, end)
    context = {
        "campaign": campaign,
        "form": form,
        "start": start,
        "end": end,
        **campaign_report(campaign, start=start, end=end),
    }
    return render(request, "campaigns/campaign_detail.html", context)


# --- bounces -----------------------------------------------------------------------------------------------


@require_GET
def bounce_explorer(request: HtmxRequest) -> HttpResponse:
    form = BounceFilterForm(request.GET or None, request=request)
    start, end = form.window()
    campaign = form.chosen_campaign()
    filters = form.event_filters(campaign)
    counts = bounce_category_counts(request, start=start, end=end, filters=filters)
    context = {
        "form": form,
        "start": start,
        "end": end,
        "category": filters.category,
        "domain": filters.domain,
        "filters": filters,
        "campaign": campaign,
        "totals": bounce_totals(request, start=start, end=end, filters=filters),
        "categories": counts,
        "chart": category_chart(counts),
        "diagnostics": top_diagnostics(request, start=start, end=end, filters=filters),
        "diagnostics_sample": selectors.DIAGNOSTICS_SAMPLE,
        "qs": query_without_page(request),
    }
    return render(
        request, _partial(request, "campaigns/bounce_explorer.html", "bounce-results", "results"), context
    )


# --- message search ----------------------------------------------------------------------------------------


@require_GET
def message_search(request: HtmxRequest) -> HttpResponse:
    """Events for an address, a sending IP or a recipient domain (``q``) or for a campaign (``campaign``,
    the link on its page), narrowed by tenant, sending IP, provider, category and UTC days; or, without
    any of q/campaign, the latest day of events matching those filters."""
    form = MessageSearchForm(request.GET or None, request=request)
    campaign = form.chosen_campaign()
    context: dict = {"form": form, "domain_days": search_days(), "campaign": campaign}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        q = data["q"]
        events = events_filtered(
            request,
            q=q,
            campaign=campaign,
            filters=form.event_filters(campaign),
            start=data.get("start"),
            end=data.get("end"),
        )
        context.update(
            q=q or (str(campaign) if campaign else ""),
            kind=search_kind(q) if q else "campaign" if campaign else "filters",
            # An address has a few events over the whole retention: one query reads them all, whole;
            # anything else reads the latest days' keys first and stops once the count is full.
            page=paginate(
                request,
                events,
                count_cap=SEARCH_COUNT_CAP,
                keyset="time_logged",
                windows=search_windows() if search_kind(q) != "address" else (),
                whole_rows=search_kind(q) == "address",
            ),
            suppressions=list(suppressions_for_address(request, q)) if q else [],
            qs=query_without_page(request),
            broad_days=BROAD_SEARCH_DAYS,
        )
    return render(
        request, _partial(request, "campaigns/message_search.html", "message-results", "results"), context
    )


# --- suppression -------------------------------------------------------------------------------------------


@require_GET
def suppression_list(request: HtmxRequest) -> HttpResponse:
    actor = actor_for(request)
    form = SuppressionFilterForm(request.GET or None, request=request)
    filters = form.filters()
    qs = suppressions_filtered(request, **filters)
    context = {
        "form": form,
        "page": paginate(request, qs),
        "qs": query_without_page(request),
        "counts": suppression_reason_counts(suppressions_filtered(request, tenant=filters.get("tenant"))),
        "can_manage": actor.can_manage_tenant_data,
        "add_form": SuppressionAddForm(request=request) if actor.can_manage_tenant_data else None,
    }
    return render(
        request,
        _partial(request, "campaigns/suppression_list.html", "suppression-results", "results"),
        context,
    )


@require_http_methods(["GET", "POST"])
def suppression_add_view(request: HttpRequest) -> HttpResponse:
    require_writer(request)
    form = SuppressionAddForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST" and form.is_valid():
        tenant, data = form.acting_tenant(), form.cleaned_data
        try:
            entry = suppression_add(
                tenant=tenant, email=data["email"], detail=data["detail"], by=request.user
            )
        except SuppressionError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"{entry.email} is now suppressed for {tenant.name}.")
            return redirect("suppression_list")
    return render(
        request, "campaigns/suppression_add.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def suppression_remove_view(request: HttpRequest, suppression_id: int) -> HttpResponse:
    # GET shows the confirmation (a read); only the POST needs the write role.
    entry = get_suppression_for_user(request, suppression_id, write=request.method == "POST")
    form = SuppressionRemoveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email, tenant = entry.email, entry.tenant
        suppression_remove(entry=entry, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"{email} removed from {tenant.name}'s suppression list.")
        return redirect("suppression_list")
    can_manage = actor_for(request).can_manage_tenant_data
    return render(
        request, "campaigns/suppression_remove.html", {"entry": entry, "form": form, "can_manage": can_manage}
    )


@require_http_methods(["GET", "POST"])
def suppression_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a CSV: it is stored as a job and imported in the background (the job page shows progress)."""
    require_writer(request)
    bound = request.method == "POST"
    form = SuppressionImportForm(
        request.POST if bound else None, request.FILES if bound else None, request=request
    )
    if request.method == "POST" and form.is_valid():
        tenant = form.acting_tenant()
        upload = form.cleaned_data["file"]
        job = suppression_import_create(
            tenant=tenant, data=upload.read(), by=request.user, filename=upload.name
        )
        suppression_import_enqueue(job.pk)
        return redirect("suppression_import_detail", import_id=job.pk)
    jobs = suppression_imports_visible(request)[:20]
    status = 400 if form.errors else 200
    return render(request, "campaigns/suppression_import.html", {"form": form, "jobs": jobs}, status=status)


@require_GET
def suppression_import_detail(request: HtmxRequest, import_id: int) -> HttpResponse:
    """A suppression import: progress while it runs (htmx polls the progress partial), then the summary."""
    job = get_suppression_import_for_user(request, import_id)
    context = {"job": job, "report": report_of(job)}
    return render(
        request,
        _partial(request, "campaigns/suppression_import_detail.html", "import-progress", "progress"),
        context,
    )


@require_GET
def suppression_export(request: HttpRequest) -> StreamingHttpResponse:
    actor = actor_for(request)
    form = SuppressionFilterForm(request.GET or None, request=request)
    filters = form.filters()
    qs = suppressions_filtered(request, **filters)
    with_tenant = actor.is_operator and not filters.get("tenant")
    tenant = filters.get("tenant") or form.tenant_fixed
    name = f"suppression-{tenant.slug if tenant else 'all'}-{utc_today():%Y%m%d}.csv"
    response = StreamingHttpResponse(
        suppression_export_rows(qs, with_tenant=with_tenant), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- import history (operators) -------------------------------------------------------------------------


@require_GET
def import_list(request: HtmxRequest) -> HttpResponse:
    require_operator(request)
    status = request.GET.get("status", "")
    qs = accounting_files()
    if status:
        qs = qs.filter(status=status)
    context = {"page": paginate(request, qs), "qs": query_without_page(request), "status": status}
    context["statuses"] = [value for value, _ in qs.model.Status.choices]
    return render(
        request, _partial(request, "campaigns/import_list.html", "import-results", "results"), context
    )


@require_GET
def import_detail(request: HttpRequest, file_id: int) -> HttpResponse:
    source = get_accounting_file_for_user(request, file_id)
    rejections = paginate(request, source.rejections.defer("data").order_by("line", "pk"))
    context = {"source": source, "page": rejections, "qs": query_without_page(request)}
    return render(request, "campaigns/import_detail.html", context)


@require_http_methods(["GET", "POST"])
def rejection_list(request: HtmxRequest) -> HttpResponse:
    """Kept records across sources (rejected or held aside), with re-ingest and dismiss (operators)."""
    require_operator(request)
    filters = RejectionFilterForm(request.GET or None)
    qs = import_rejections(**filters.filters())
    action_form = None
    if request.method == "POST":
        posted = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
        chosen = list(
            ImportRejection.objects.filter(pk__in=posted).order_by("pk").values_list("pk", flat=True)
        )
        action_form = RejectionActionForm(request.POST, choices_from=chosen)
        if action_form.is_valid():
            picked = ImportRejection.objects.filter(pk__in=action_form.cleaned_data["ids"]).select_related(
                "server"
            )
            action = action_form.cleaned_data["action"]
            if action == "dismiss":
                count = rejection_dismiss(rejections=picked, by=request.user)
                messages.success(request, f"Dismissed {count} record(s).")
            else:
                outcome = rejection_reingest(
                    rejections=picked, by=request.user, by_ip=action == "reingest_by_ip"
                )
                messages.success(
                    request,
                    f"Re-ingested: {outcome.imported} imported, {outcome.duplicates} already stored, "
                    f"{outcome.refused} refused again, {outcome.skipped} skipped.",
                )
                for reason in outcome.reasons:
                    messages.warning(request, reason)
            return redirect(request.get_full_path())
    context = {
        "filters": filters,
        "page": paginate(request, qs),
        "qs": query_without_page(request),
        "action_form": action_form or RejectionActionForm(choices_from=[]),
    }
    status = 400 if action_form is not None and action_form.errors else 200
    return render(
        request,
        _partial(request, "campaigns/rejection_list.html", "rejection-results", "results"),
        context,
        status=status,
    )


@require_GET
def rejection_download(request: HttpRequest, rejection_id: int) -> HttpResponse:
    """A kept record's bytes exactly as they came (with its header line first for CSV)."""
    rejection = get_rejection_for_user(request, rejection_id)
    data = bytes(rejection.data)
    if rejection.data_format == ImportRejection.Format.CSV and rejection.header:
        data = csv_header_line(rejection.header) + data
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="record-{rejection.pk}.{rejection.data_format}"'
    return response
