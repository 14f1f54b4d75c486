"""Dashboard pages for IPs, pools and PMTA servers. Views stay thin: lookups in access, reads in selectors,
changes in services."""

import hashlib
from collections.abc import Iterable

from django.contrib import messages
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from ips import services
from ips.access import get_ip_for_user, get_pool_for_user, get_server_for_user
from ips.forms import (
    STATUS_ACTIONS,
    BulkActionForm,
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
from ips.models import IPAddress, IPStatus, MtaServer
from ips.selectors import (
    CONFIG_PROBLEMS,
    IPColumn,
    ip_detail_blocks,
    ip_list_columns,
    ip_timeline,
    ips_filtered,
    ips_visible,
    pool_choices,
    pools_with_counts,
    server_config_state,
    server_detail_blocks,
    servers_with_config_problem,
    servers_with_counts,
    status_counts,
    with_counts,
)
from ips.services import TransitionError
from tenants.access import actor_for, require_operator

# --- optional pieces from the ops side (config rendering, health polling, rDNS) --------------------------


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _url_exists(name: str, **kwargs: int) -> bool:
    try:
        reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return False
    return True


def ops_features() -> dict[str, bool]:
    """Which ops pages/partials are installed; the pages render without them."""
    rdns_check = _url_exists("ip_rdns_check", ip_id=1)
    health_poll = _url_exists("server_health_poll", server_id=1)
    return {
        # The partials link their own action URLs, so each counts only together with its URL.
        "rdns_partial": rdns_check and _template_exists("ips/ops/_ip_rdns.html"),
        "rdns_check": rdns_check,
        "health_partial": health_poll and _template_exists("ips/ops/_server_health.html"),
        "health_poll": health_poll,
        "server_config": _url_exists("server_config", server_id=1),
    }


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        if field == "__all__":
            return errors[0]
        label = form.fields[field].label or field.replace("_", " ").capitalize()
        return f"{label}: {errors[0]}"
    return "Invalid input."


# --- IP list and bulk actions ------------------------------------------------------------------------------


def _query_without(query: QueryDict, *names: str) -> str:
    params = query.copy()
    for name in ("page", *names):
        params.pop(name, None)
    return params.urlencode()


def _list_filters(request: HttpRequest, query: QueryDict) -> tuple[IPFilterForm, dict, list[IPColumn]]:
    """The IP list's filter form, its filters (empty when invalid) and the columns other apps add."""
    columns = ip_list_columns(request)
    form = IPFilterForm(query or None, request=request, columns=columns)
    return form, (form.cleaned_data if form.is_valid() else {}), columns


def _with_figures(ips: Iterable[IPAddress], columns: list[IPColumn]) -> list[IPAddress]:
    """Each IP's column values as ``ip.figures`` [(column, value, link)], in column order, for the row
    template (the link only where the figure is not zero: an empty drill-down is not worth a click)."""
    rows = list(ips)
    for ip in rows:
        ip.figures = [  # type: ignore[attr-defined]
            (c, value, c.href(ip) if value else "") for c in columns for value in [getattr(ip, c.key)]
        ]
    return rows


def _counters_context(request: HttpRequest, query: QueryDict, filters: dict, columns: list[IPColumn]) -> dict:
    """The per-status counters (they ignore the status filter, so the other statuses stay one click away)."""
    return {
        "counts": status_counts(ips_filtered(request, filters, with_status=False, columns=columns)),
        "qs_no_status": _query_without(query, "status"),
        "active_status": filters.get("status", ""),
    }


def _sort_headers(query: QueryDict, form: IPFilterForm, current: str) -> dict[str, dict[str, str]]:
    """{sort key: {"url", "dir"}}: a header link sorts by its column, ascending first, again to reverse."""
    rest = _query_without(query, "sort")
    base = reverse("ip_list") + "?" + (f"{rest}&" if rest else "")
    headers = {}
    for key in form.sort_keys:
        direction = "asc" if current == key else "desc" if current == f"-{key}" else ""
        target = f"-{key}" if direction == "asc" else key
        headers[key] = {"url": f"{base}sort={target}", "dir": direction}
    return headers


def ip_list(request: HtmxRequest) -> HttpResponse:
    actor = actor_for(request)
    form, filters, columns = _list_filters(request, request.GET)
    page = paginate(request, ips_filtered(request, filters, columns=columns))
    page.object_list = _with_figures(page.object_list, columns)
    sort = filters.get("sort", "")
    headers = _sort_headers(request.GET, form, sort)
    context = {
        "form": form,
        "page": page,
        "qs": query_without_page(request),
        "columns": columns,
        "sort": headers,
        "sort_value": sort,
        "column_headers": [(c, headers[c.key]) for c in columns],
        "column_filters": [form[name] for name in form.column_filters],
        "can_act": actor.is_operator,
        **_counters_context(request, request.GET, filters, columns),
    }
    if actor.is_operator:
        context["bulk_form"] = BulkActionForm(ips_qs=IPAddress.objects.none(), pools_qs=pool_choices(request))
    template = "ips/ip_list.html"
    if request.htmx and request.htmx.target == "ip-results":
        template += "#results"
    return render(request, template, context)


BULK_MESSAGE_LEVELS = {"done": messages.SUCCESS, "unchanged": messages.INFO, "refused": messages.ERROR}
# Past this many outcomes the redirect's messages say how many of each, and list only the refusals.
BULK_MESSAGES_MAX = 20


def _safe_list_url(next_query: str) -> str:
    # Only a query string is accepted, re-encoded, and always appended to our own list URL.
    query = QueryDict(next_query.lstrip("?")).urlencode() if next_query else ""
    return reverse("ip_list") + (f"?{query}" if query else "")


def _bulk_targets(
    request: HttpRequest,
    form: BulkActionForm,
    list_form: IPFilterForm,
    filters: dict,
    columns: list[IPColumn],
) -> QuerySet[IPAddress]:
    """The ticked IPs, or with "all matching" every IP the list's filters match now (refused when the
    filters no longer read or the set is not the size the operator saw)."""
    data = form.cleaned_data
    if not data["all_matching"]:
        return data["ids"]
    if list_form.is_bound and not list_form.is_valid():
        form.add_error(None, "The list's filters are no longer valid; reload the list and try again.")
        return IPAddress.objects.none()
    pks = list(ips_filtered(request, filters, columns=columns).values_list("pk", flat=True))
    if data["matching"] is not None and len(pks) != data["matching"]:
        form.add_error(
            None,
            f"{len(pks)} IPs match these filters now, not {data['matching']}: reload the list and try again.",
        )
        return IPAddress.objects.none()
    return ips_visible(request).filter(pk__in=pks)


@require_POST
def ip_bulk(request: HtmxRequest) -> HttpResponse:
    require_operator(request)
    next_query = QueryDict(request.POST.get("next", "").lstrip("?"))
    list_form, filters, columns = _list_filters(request, next_query)
    form = BulkActionForm(request.POST, ips_qs=ips_visible(request), pools_qs=pool_choices(request))
    outcomes = []
    if form.is_valid():
        targets = _bulk_targets(request, form, list_form, filters, columns)
        if not form.errors:
            outcomes = services.ips_bulk_apply(
                ips=targets,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
                pool=form.cleaned_data["pool"],
                by=request.user,
            )
    if request.htmx:
        # Rows of this page that changed are swapped in place, and the status counters with them
        # (out-of-band): htmx reports a swap whose target is not on the page as an error.
        # Ticked IPs are always on the page; `shown` lists the page's other rows (for "all matching").
        shown = {
            int(pk) for pk in request.POST.getlist("shown") + request.POST.getlist("ids") if pk.isdigit()
        }
        changed = {o.ip.pk for o in outcomes} & shown
        fresh = ips_filtered(request, {}, columns=columns).filter(pk__in=changed)
        tally = {result: sum(1 for o in outcomes if o.result == result) for result in BULK_MESSAGE_LEVELS}
        return render(
            request,
            "ips/ip_list.html#bulk_result",
            {
                "bulk_errors": form.errors or None,
                "outcomes": outcomes,
                "tally": tally,
                "changed_ips": _with_figures(fresh, columns),
                "columns": columns,
                "can_act": True,
                "oob": True,
                **_counters_context(request, next_query, filters, columns),
            },
        )
    if form.errors:
        messages.error(request, _first_error(form))
    if len(outcomes) > BULK_MESSAGES_MAX:
        for result, level in BULK_MESSAGE_LEVELS.items():
            n = sum(1 for o in outcomes if o.result == result)
            if n:
                messages.add_message(request, level, f"{n} IP(s): {result}.")
        outcomes = [o for o in outcomes if o.result == "refused"]
    for outcome in outcomes:
        level = BULK_MESSAGE_LEVELS[outcome.result]
        messages.add_message(request, level, f"{outcome.ip.address}: {outcome.message}")
    return redirect(_safe_list_url(request.POST.get("next", "")))


# --- one IP ------------------------------------------------------------------------------------------------


def _status_actions(ip: IPAddress) -> list[tuple[str, str]]:
    actions = []
    for to, label in STATUS_ACTIONS:
        if to == "resume":
            if ip.status == IPStatus.PAUSED:
                actions.append((to, f"Resume ({ip.resume_target})"))
        elif to != ip.status and ip.can_transition(to):
            actions.append((to, label))
    return actions


def ip_detail(request: HttpRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id)
    actor = actor_for(request)
    context = {
        "ip": ip,
        "timeline": ip_timeline(ip),
        "ops": ops_features(),
        "ip_blocks": ip_detail_blocks(request, ip),
        "provider_limits": sorted(ip.provider_limits.items()) if ip.provider_limits else [],
        "can_act": actor.is_operator,
    }
    if actor.is_operator:
        context |= {
            "status_actions": _status_actions(ip),
            "move_form": IPMoveForm(server=ip.server, initial={"pool": ip.pool_id}),
            "hostname_form": IPHostnameForm(initial={"hostname": ip.hostname}),
        }
    return render(request, "ips/ip_detail.html", context)


@require_POST
def ip_set_status(request: HttpRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id, write=True)
    form = IPStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("ip_detail", ip_id=ip.pk)
    to, reason = form.cleaned_data["to"], form.cleaned_data["reason"]
    before = ip.status
    try:
        if to == "resume":
            services.ip_resume(ip=ip, by=request.user, reason=reason)
        else:
            services.ip_set_status(ip=ip, to=to, by=request.user, reason=reason)
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{ip.address}: {before} → {ip.status}.")
    return redirect("ip_detail", ip_id=ip.pk)


@require_POST
def ip_move(request: HttpRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id, write=True)
    form = IPMoveForm(request.POST, server=ip.server)
    if not form.is_valid():
        messages.error(request, _first_error(form))
    elif form.cleaned_data["pool"] == ip.pool:
        messages.info(request, "The IP is already in that pool.")
    else:
        pool = form.cleaned_data["pool"]
        try:
            services.ip_move_to_pool(ip=ip, pool=pool, by=request.user, reason=form.cleaned_data["reason"])
        except TransitionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{ip.address} moved to {pool.name if pool else 'no pool'}.")
    return redirect("ip_detail", ip_id=ip.pk)


@require_POST
def ip_edit(request: HttpRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id, write=True)
    form = IPHostnameForm(request.POST)
    if form.is_valid():
        services.ip_update(ip=ip, by=request.user, hostname=form.cleaned_data["hostname"].strip())
        messages.success(request, "Hostname saved.")
    else:
        messages.error(request, _first_error(form))
    return redirect("ip_detail", ip_id=ip.pk)


# --- bulk add ----------------------------------------------------------------------------------------------


def _preview_digest(form: BulkAddForm) -> str:
    """Ties "Confirm" to exactly what was previewed: an edit after the preview gets a fresh preview."""
    d = form.cleaned_data
    raw = "\x00".join(
        [d["text"], str(d["server"].pk), str(d["pool"].pk if d["pool"] else ""), d["hostname_template"]]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


@require_http_methods(["GET", "POST"])
def ip_bulk_add(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    servers = list(MtaServer.objects.values_list("pk", flat=True)[:2])
    default_server = request.GET.get("server") or (servers[0] if len(servers) == 1 else None)
    form = BulkAddForm(request.POST or None, initial={"server": default_server})
    preview, digest = None, ""
    if request.method == "POST" and form.is_valid():
        preview = services.ips_bulk_preview(text=form.cleaned_data["text"])
        digest = _preview_digest(form)
        confirmed = "confirm" in request.POST and request.POST.get("digest") == digest
        if confirmed and preview.ok:
            data = form.cleaned_data
            try:
                created = services.ips_bulk_add(
                    server=data["server"],
                    addresses=preview.addresses,
                    by=request.user,
                    pool=data["pool"],
                    hostname_template=data["hostname_template"],
                )
            except (IntegrityError, TransitionError) as exc:
                messages.error(request, f"Nothing was added: {exc}")
            else:
                messages.success(request, f"Added {len(created)} IPs to {data['server'].name}.")
                return redirect(f"{reverse('ip_list')}?server={data['server'].pk}")
        elif "confirm" in request.POST and preview.ok:
            messages.warning(request, "The input changed since the preview; check it again.")
    return render(
        request,
        "ips/ip_bulk_add.html",
        {"form": form, "preview": preview, "digest": digest},
        status=400 if preview is not None and preview.errors else 200,
    )


# --- pools -------------------------------------------------------------------------------------------------


def pool_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, pools_with_counts(request))
    rows = [(pool, with_counts(pool)) for pool in page]
    return render(
        request, "ips/pool_list.html", {"page": page, "rows": rows, "qs": query_without_page(request)}
    )


def pool_detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = get_pool_for_user(request, pool_id)
    actor = actor_for(request)
    ips = ips_visible(request).filter(pool=pool)
    page = paginate(request, ips)
    context = {
        "pool": pool,
        "page": page,
        "qs": query_without_page(request),
        "counts": status_counts(ips),
        "can_act": actor.is_operator,
    }
    if actor.is_operator:
        context["edit_form"] = PoolEditForm(
            initial={"tenant": pool.tenant_id, "description": pool.description}
        )
    return render(request, "ips/pool_detail.html", context)


@require_http_methods(["GET", "POST"])
def pool_create(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    form = PoolCreateForm(request.POST or None, initial={"server": request.GET.get("server")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        pool = services.pool_create(
            name=d["name"],
            server=d["server"],
            tenant=d["tenant"],
            description=d["description"],
            by=request.user,
        )
        messages.success(request, f"Pool {pool.name} created.")
        return redirect("pool_detail", pool_id=pool.pk)
    return render(request, "ips/pool_form.html", {"form": form, "title": "New pool"})


@require_http_methods(["GET", "POST"])
def pool_edit(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = get_pool_for_user(request, pool_id, write=True)
    form = PoolEditForm(
        request.POST or None, initial={"tenant": pool.tenant_id, "description": pool.description}
    )
    if request.method == "POST" and form.is_valid():
        services.pool_update(
            pool=pool,
            by=request.user,
            tenant=form.cleaned_data["tenant"],
            description=form.cleaned_data["description"],
        )
        messages.success(request, f"Pool {pool.name} saved.")
        return redirect("pool_detail", pool_id=pool.pk)
    return render(
        request, "ips/pool_form.html", {"form": form, "pool": pool, "title": f"Edit pool {pool.name}"}
    )


# --- servers -----------------------------------------------------------------------------------------------


def server_list(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    servers = servers_with_counts()
    config = request.GET.get("config", "")
    if config in CONFIG_PROBLEMS:
        servers = servers.filter(pk__in=servers_with_config_problem(config))
    page = paginate(request, servers)
    rows = [(server, with_counts(server)) for server in page]
    return render(
        request,
        "ips/server_list.html",
        {
            "page": page,
            "rows": rows,
            "qs": query_without_page(request),
            "ops": ops_features(),
            "config_problem": CONFIG_PROBLEMS.get(config, ""),
        },
    )


def _server_edit_form(server: MtaServer, data=None) -> ServerEditForm:
    return ServerEditForm(
        data, initial={"hostname": server.hostname, "mgmt_url": server.mgmt_url, "notes": server.notes}
    )


def _server_detail(request: HttpRequest, server: MtaServer, form: ServerEditForm, status: int = 200):
    pools = pools_with_counts(request).filter(server=server)
    return render(
        request,
        "ips/server_detail.html",
        {
            "server": server,
            "pool_rows": [(pool, with_counts(pool)) for pool in pools],
            "counts": status_counts(IPAddress.objects.filter(server=server)),
            "unpooled": IPAddress.objects.filter(server=server, pool__isnull=True).count(),
            "config": server_config_state(server),
            "commands": list(server.commands.order_by("-created_at", "-pk")[:10]),
            "server_blocks": server_detail_blocks(request, server),
            "edit_form": form,
            "ops": ops_features(),
        },
        status=status,
    )


def server_detail(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_server_for_user(request, server_id)
    return _server_detail(request, server, _server_edit_form(server))


@require_http_methods(["GET", "POST"])
def server_edit(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_server_for_user(request, server_id, write=True)
    if request.method == "GET":
        return redirect("server_detail", server_id=server.pk)
    form = _server_edit_form(server, request.POST)
    if not form.is_valid():
        return _server_detail(request, server, form, status=400)
    changes = form.changes(server)
    if changes:
        services.server_update(server=server, by=request.user, **changes)
        messages.success(request, f"Server {server.name} saved.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect("server_detail", server_id=server.pk)


def _token_page(request: HttpRequest, server: MtaServer, token: str, created: bool) -> HttpResponse:
    response = render(
        request, "ips/server_token.html", {"server": server, "token": token, "created": created}
    )
    # The token is shown this once: keep it out of every cache.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def server_create(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    form = ServerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        server, token = services.server_create(
            name=d["name"],
            hostname=d["hostname"],
            mgmt_url=d["mgmt_url"],
            mgmt_api_key=d["mgmt_api_key"],
            notes=d["notes"],
            by=request.user,
        )
        return _token_page(request, server, token, created=True)
    return render(request, "ips/server_form.html", {"form": form})


@require_POST
def server_rotate_token(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_server_for_user(request, server_id, write=True)
    token = services.server_rotate_token(server=server, by=request.user)
    return _token_page(request, server, token, created=False)
