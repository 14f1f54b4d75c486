"""Reputation pages: the targets x lists grid, one target's history, the blocklist catalogue."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.access import scoped
from core.dates import utc_today
from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from domains.access import get_domain_for_user
from domains.models import SendingDomain
from ips.access import get_ip_for_user
from ips.models import IPAddress
from ips.services import ips_bulk_apply
from reputation import services
from reputation.access import (
    get_blocklist_for_operator,
    get_provider_account_for_user,
)
from reputation.forms import BlocklistForm, GridBulkForm, OverviewFilterForm, ProviderAccountForm
from reputation.models import (
    Blocklist,
    FeedbackLoopStat,
    Kind,
    PostmasterDomainStat,
    ProviderAccount,
    SndsIpStat,
    Sweep,
)
from reputation.provider_charts import PROVIDER_DAYS, day_axis, postmaster_domains, snds_ips
from reputation.selectors import (
    grid_rows,
    overview_targets,
    provider_accounts_for,
    scope_counts,
    sweep_status,
    target_history,
    visible_domains,
    visible_ips,
)
from tenants.access import actor_for, require_operator, require_writer

# A row is one line of compact cells, so a page holds a whole /25 of a fleet; listed targets come first.
GRID_PAGE_SIZE = 100


def reputation_overview(request: HtmxRequest) -> HttpResponse:
    form = OverviewFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    only = form.only_value()
    targets = overview_targets(
        request,
        q=filters.get("q", ""),
        kind=filters.get("kind", ""),
        problems=only == "problems",
        listed=only == "listed",
    )
    page = paginate(request, targets, per_page=GRID_PAGE_SIZE)  # type: ignore[arg-type]
    lists = list(Blocklist.objects.filter(enabled=True).order_by("name"))
    rows = grid_rows(list(page.object_list), lists)
    context = {
        "form": form,
        "page": page,
        "qs": query_without_page(request),
        "ip_rows": rows[Kind.IP],
        "domain_rows": rows[Kind.DOMAIN],
        "ip_lists": [x for x in lists if x.kind == Kind.IP],
        "domain_lists": [x for x in lists if x.kind == Kind.DOMAIN],
        "counts": scope_counts(request),
        "only": only,
        "can_sweep": actor_for(request).is_operator,
        **sweep_status(),
    }
    template = "reputation/overview.html"
    if request.htmx and request.htmx.target == "reputation-results":
        template += "#results"
    return render(request, template, context)


@require_POST
def reputation_sweep_now(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No worker to hand it to: run it here and say what it found.
        try:
            record = services.sweep_run(trigger=Sweep.Trigger.MANUAL)
        except Exception as exc:
            messages.error(request, f"The sweep failed: {exc}")
        else:
            messages.success(
                request,
                f"Sweep finished in {record.duration:.1f}s: {record.queries} checks, {record.listed} listed, "
                f"{record.errors} errors, {record.new_listings} new listings, {record.cleared} cleared.",
            )
        return redirect("reputation_overview")
    from reputation.tasks import sweep_dnsbl

    transaction.on_commit(lambda: sweep_dnsbl.delay(trigger=Sweep.Trigger.MANUAL))
    messages.info(request, "Sweep started; reload this page in a minute to see its results.")
    return redirect("reputation_overview")


def _overview_url(next_query: str) -> str:
    # Only a query string is accepted, re-encoded, and always appended to our own page's URL.
    query = QueryDict(next_query.lstrip("?")).urlencode() if next_query else ""
    return reverse("reputation_overview") + (f"?{query}" if query else "")


@require_POST
def reputation_bulk(request: HttpRequest) -> HttpResponse:
    """Operators: re-check the ticked targets now, or pause the ticked IPs with a reason (each IP's pause
    is audited by ips' own service; a refusal for one does not stop the others)."""
    require_operator(request)
    posted = request.POST.getlist("targets")
    wanted = {
        kind: [
            int(v.split(":", 1)[1])
            for v in posted
            if v.startswith(f"{kind}:") and v.split(":", 1)[1].isdigit()
        ]
        for kind in (Kind.IP, Kind.DOMAIN)
    }
    ips = visible_ips(request).filter(pk__in=wanted[Kind.IP])
    domains = visible_domains(request).filter(pk__in=wanted[Kind.DOMAIN])
    choices = [f"ip:{pk}" for pk in ips.values_list("pk", flat=True)]
    choices += [f"domain:{pk}" for pk in domains.values_list("pk", flat=True)]
    form = GridBulkForm(request.POST, choices=choices)
    back = redirect(_overview_url(request.POST.get("next", "")))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return back
    ips = ips.filter(pk__in=form.picked(Kind.IP))
    if form.cleaned_data["action"] == "pause":
        outcomes = ips_bulk_apply(
            ips=ips, action="pause", reason=form.cleaned_data["reason"], pool=None, by=request.user
        )
        if not outcomes:
            messages.info(request, "No IP was selected: only IPs can be paused.")
        for result in ("done", "unchanged", "refused"):
            done = [o.ip.address for o in outcomes if o.result == result]
            if done:
                level = messages.ERROR if result == "refused" else messages.SUCCESS
                messages.add_message(request, level, f"{result.capitalize()}: {', '.join(done)}")
        return back
    names = [str(a) for a in ips.values_list("address", flat=True)]
    names += list(domains.filter(pk__in=form.picked(Kind.DOMAIN)).values_list("name", flat=True))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        record = services.sweep_run(targets=names, trigger=Sweep.Trigger.MANUAL)
        messages.success(
            request,
            f"Re-checked {record.targets} target(s): {record.listed} listed, {record.errors} errors, "
            f"{record.new_listings} new listings, {record.cleared} cleared.",
        )
        return back
    from reputation.tasks import sweep_dnsbl

    transaction.on_commit(lambda: sweep_dnsbl.delay(trigger=Sweep.Trigger.MANUAL, targets=names))
    messages.info(request, f"Re-checking {len(names)} target(s); reload this page in a minute.")
    return back


def _history(request: HttpRequest, kind: str, obj, label: str) -> HttpResponse:
    context = {
        "kind": kind,
        "obj": obj,
        "label": label,
        **target_history(kind=kind, obj=obj),
        **sweep_status(),
    }
    return render(request, "reputation/target_history.html", context)


def reputation_ip(request: HttpRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id)
    return _history(request, Kind.IP, ip, ip.address)


def reputation_domain(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id)
    return _history(request, Kind.DOMAIN, domain, domain.display_name)


def blocklist_list(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    lists = Blocklist.objects.order_by("kind", "name")
    share = f"{settings.DNSBL_BREAKER_SHARE:.0%}"
    return render(request, "reputation/blocklist_list.html", {"lists": lists, "breaker_share": share})


@require_http_methods(["GET", "POST"])
def blocklist_edit(request: HttpRequest, blocklist_id: int) -> HttpResponse:
    blocklist = get_blocklist_for_operator(request, blocklist_id)
    form = BlocklistForm(request.POST or None, blocklist=blocklist)
    if request.method == "POST" and form.is_valid():
        services.blocklist_update(blocklist=blocklist, by=request.user, **form.changes())
        messages.success(request, f"{blocklist.name} saved.")
        return redirect("blocklist_list")
    return render(
        request,
        "reputation/blocklist_form.html",
        {"blocklist": blocklist, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def provider_data(request: HttpRequest) -> HttpResponse:
    """Gmail Postmaster Tools v2 per domain and Microsoft SNDS per IP, last PROVIDER_DAYS days, scoped, each
    with its chart (reputation/provider_charts.py); the accounts the viewer may see, with links to manage."""
    days = day_axis(until=utc_today(), days=PROVIDER_DAYS)
    since = days[0]
    domains = scoped(actor_for(request), SendingDomain.objects.all(), tenant_field="tenant")
    stats = (
        PostmasterDomainStat.objects.filter(domain__in=domains, day__gte=since)
        .select_related("domain")
        .order_by("domain__name", "day")
    )
    ips = scoped(actor_for(request), IPAddress.objects.all(), tenant_field="pool__tenant").values("address")
    snds = SndsIpStat.objects.filter(address__in=ips, day__gte=since).order_by("address", "day")
    loops = (
        FeedbackLoopStat.objects.filter(domain__in=domains, day__gte=since)
        .select_related("tenant")
        .order_by("-day", "-spam_rate")[:100]
    )
    context = {
        "domains": postmaster_domains(stats, days),
        "ips": snds_ips(snds, days),
        "days": PROVIDER_DAYS,
        "loops": loops,
        "accounts": provider_accounts_for(request),
        "can_manage_accounts": actor_for(request).can_manage_tenant_data,
    }
    return render(request, "reputation/provider_data.html", context)


# --- provider accounts: operators any, a tenant admin their own tenant's, viewers read ----------------------

ACCOUNT_TEMPLATE = "reputation/provider_account.html"


def _account_form_page(
    request: HttpRequest, form: ProviderAccountForm, account: ProviderAccount | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "account": account,
        "can_manage": actor_for(request).can_manage_tenant_data,
    }
    return render(request, ACCOUNT_TEMPLATE, context, status=status)


def _account_save(
    request: HttpRequest, form: ProviderAccountForm, account: ProviderAccount | None
) -> ProviderAccount | None:
    """Save a valid form through the service; None (with the error on the form) when it refuses."""
    if not form.is_valid():
        return None
    actor = actor_for(request)
    data = form.cleaned_data
    if actor.is_operator:
        tenant = data.get("tenant")
        tenant_id = tenant.pk if tenant is not None else None
    else:
        tenant_id = actor.tenant_id  # a tenant admin's account is always their own tenant's
    try:
        saved = services.provider_account_save(
            account=account,
            by=request.user,
            kind=data["kind"],
            tenant_id=tenant_id,
            label=data["label"],
            client_id=data.get("client_id", ""),
            enabled=data["enabled"],
            secrets=form.secrets(),
        )
    except services.ProviderAccountError as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(request, f"{saved} saved. Use “Test connection” to check the credentials.")
    return saved


@require_http_methods(["GET", "POST"])
def provider_account_new(request: HttpRequest) -> HttpResponse:
    actor = require_writer(request)
    if not actor.is_operator and actor.tenant_id is None:
        raise Http404("Not found")
    form = ProviderAccountForm(request.POST or None, operator=actor.is_operator)
    if request.method == "POST":
        if saved := _account_save(request, form, None):
            return redirect("provider_account", account_id=saved.pk)
        return _account_form_page(request, form, None, status=400)
    return _account_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
def provider_account(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_provider_account_for_user(request, account_id, write=request.method == "POST")
    operator = actor_for(request).is_operator
    form = ProviderAccountForm(request.POST or None, account=account, operator=operator)
    if request.method == "POST":
        if _account_save(request, form, account):
            return redirect("provider_account", account_id=account.pk)
        return _account_form_page(request, form, account, status=400)
    return _account_form_page(request, form, account)


@require_POST
def provider_account_test(request: HtmxRequest, account_id: int) -> HttpResponse:
    """Test connection through core.outbound (htmx swaps the result in; without JavaScript, a message)."""
    account = get_provider_account_for_user(request, account_id, write=True)
    result = services.provider_account_test(account=account, by=request.user)
    if request.htmx:
        return render(request, f"{ACCOUNT_TEMPLATE}#test-result", {"result": result})
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("provider_account", account_id=account.pk)


@require_POST
def provider_account_delete(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_provider_account_for_user(request, account_id, write=True)
    name = str(account)
    services.provider_account_delete(account=account, by=request.user)
    messages.success(request, f"{name} removed; its imported data stays.")
    return redirect("provider_data")
