from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from domains import services
from domains.access import check_may_force_retire, get_domain_for_user
from domains.forms import DomainCreateForm, DomainEditForm, RetireForm, RotationStartForm
from domains.models import LIST_CHECKS, CheckName, SendingDomain
from domains.pmta_fragment import FRAGMENT_NAME, active_keys, render_dkim_fragment
from domains.selectors import (
    domain_detail_blocks,
    domain_timeline,
    domains_for_list,
    list_badges,
    ordered_checks,
    rotation_for,
    zone_snippet,
)
from ips.models import MtaServer
from tenants.access import actor_for, require_operator, require_writer


@require_GET
def domain_list(request: HtmxRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    # ?problems=1 (the home page's link) or the checkbox ("on").
    problems = request.GET.get("problems", "") in ("1", "on", "true")
    page = paginate(request, domains_for_list(request, q, problems=problems))
    rows = [(domain, list_badges(domain)) for domain in page]
    template = "domains/domain_list.html#results" if request.htmx else "domains/domain_list.html"
    context = {
        "page": page,
        "rows": rows,
        "q": q,
        "problems": problems,
        "qs": query_without_page(request),
        "columns": [CheckName(name).label for name in LIST_CHECKS],
        "can_add": actor_for(request).can_manage_tenant_data,
    }
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def domain_create(request: HttpRequest) -> HttpResponse:
    actor = require_writer(request)
    form = DomainCreateForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            domain = services.domain_create(
                tenant=form.acting_tenant(),
                name=data["name"],
                return_path_domain=data["return_path_domain"],
                expected_dmarc_policy=data["expected_dmarc_policy"],
                key_bits=data["key_bits"],
                by=request.user,
                skip_verification=actor.is_operator and data.get("skip_verification", False),
            )
        except services.DomainError as exc:
            form.add_error(None, str(exc))
        else:
            if domain.is_verified:
                messages.success(request, f"{domain.name} added. Publish the records below, then recheck.")
            else:
                messages.success(
                    request, f"{domain.name} added. Publish its ownership TXT record first, then verify."
                )
            return redirect("domain_detail", domain_id=domain.pk)
    return render(request, "domains/domain_form.html", {"form": form, "creating": True})


def _detail_context(request: HttpRequest, domain: SendingDomain) -> dict:
    actor = actor_for(request)
    checks = ordered_checks(domain)
    return {
        "domain": domain,
        "checks": checks,
        "zone": zone_snippet(domain, checks),
        "timeline": domain_timeline(domain),
        "rotation": rotation_for(domain),
        "can_write": actor.can_manage_tenant_data,
        "is_operator": actor.is_operator,
        "rotation_form": RotationStartForm(),
        "now": timezone.now(),
        "domain_blocks": domain_detail_blocks(request, domain),
    }


@require_GET
def domain_detail(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id)
    return render(request, "domains/domain_detail.html", _detail_context(request, domain))


@require_POST
def domain_check(request: HtmxRequest, domain_id: int) -> HttpResponse:
    """Recheck now: the htmx button swaps in the fresh checks; without JavaScript, back to the page."""
    domain = get_domain_for_user(request, domain_id, write=True)
    services.domain_check_run(domain=domain, by=request.user)
    domain.refresh_from_db()
    if request.htmx:
        return render(request, "domains/domain_detail.html#checks", _detail_context(request, domain))
    messages.success(request, f"{domain.name} checked.")
    return redirect("domain_detail", domain_id=domain.pk)


@require_POST
def domain_verify(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        result = services.domain_ownership_verify(domain=domain, by=request.user)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        if result.verified:
            messages.success(request, f"{domain.name} is verified. {result.explanation}")
        else:
            messages.error(request, f"{domain.name} is not verified yet. {result.explanation}")
    return redirect(reverse("domain_detail", kwargs={"domain_id": domain.pk}) + "#ownership")


@require_POST
def domain_verify_skip(request: HttpRequest, domain_id: int) -> HttpResponse:
    require_operator(request)
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        services.domain_ownership_skip(domain=domain, by=request.user, reason=request.POST.get("reason", ""))
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{domain.name} marked as verified without the DNS proof (audited).")
    return redirect(reverse("domain_detail", kwargs={"domain_id": domain.pk}) + "#ownership")


@require_http_methods(["GET", "POST"])
def domain_edit(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    # The form validates into a copy, so the service still sees the values before the change.
    form = DomainEditForm(request.POST or None, instance=SendingDomain.objects.get(pk=domain.pk))
    if request.method == "POST" and form.is_valid():
        services.domain_update(
            domain=domain,
            by=request.user,
            return_path_domain=form.cleaned_data["return_path_domain"],
            expected_dmarc_policy=form.cleaned_data["expected_dmarc_policy"],
        )
        messages.success(request, f"{domain.name} updated; recheck to see the effect.")
        return redirect("domain_detail", domain_id=domain.pk)
    return render(request, "domains/domain_form.html", {"form": form, "domain": domain, "creating": False})


@require_POST
def domain_delete(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    name = domain.name
    services.domain_delete(domain=domain, by=request.user)
    messages.success(request, f"{name} deleted. PMTA stops signing for it at the next config render.")
    return redirect("domain_list")


# --- DKIM rotation wizard ----------------------------------------------------------------------------


def _back_to_rotation(domain: SendingDomain) -> HttpResponse:
    return redirect(reverse("domain_detail", kwargs={"domain_id": domain.pk}) + "#dkim")


@require_POST
def rotation_start(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    form = RotationStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a key size and a selector of letters, digits and hyphens.")
        return _back_to_rotation(domain)
    try:
        key = services.rotation_start(
            domain=domain,
            by=request.user,
            bits=form.cleaned_data["key_bits"],
            selector=form.cleaned_data["selector"],
        )
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"New key on selector {key.selector}: publish its TXT record, then verify.")
    return _back_to_rotation(domain)


@require_POST
def rotation_verify(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        verification = services.rotation_verify(domain=domain, by=request.user)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        result = verification.result
        if result.is_ok:
            messages.success(request, f"Selector {verification.key.selector} is published correctly.")
        else:
            messages.warning(request, f"Not yet: {result.status} - {result.explanation}")
    return _back_to_rotation(domain)


@require_POST
def rotation_activate(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        key = services.rotation_activate(domain=domain, by=request.user)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Selector {key.selector} now signs (from PMTA's next config reload); the old key stays "
            "published for the grace period.",
        )
    return _back_to_rotation(domain)


@require_POST
def rotation_cancel(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        services.rotation_cancel(domain=domain, by=request.user)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Rotation cancelled; you can remove the new key's TXT record.")
    return _back_to_rotation(domain)


@require_POST
def rotation_retire(request: HttpRequest, domain_id: int) -> HttpResponse:
    domain = get_domain_for_user(request, domain_id, write=True)
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say which selector to retire.")
        return _back_to_rotation(domain)
    force = form.cleaned_data["force"]
    check_may_force_retire(request, force)
    try:
        key = services.rotation_retire(
            domain=domain, selector=form.cleaned_data["selector"], by=request.user, force=force
        )
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Selector {key.selector} retired; remove its TXT record from DNS.")
    return _back_to_rotation(domain)


# --- operators: the PMTA fragment and key files ------------------------------------------------------


def _server_param(request: HttpRequest) -> MtaServer | None:
    name = (request.GET.get("server") or request.POST.get("server") or "").strip()
    return get_object_or_404(MtaServer, name=name) if name else None


@require_GET
def dkim_fragment(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    server = _server_param(request)
    fragment = render_dkim_fragment(server)
    if request.GET.get("download"):
        response = HttpResponse(fragment, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{FRAGMENT_NAME}"'
        return response
    keys = active_keys(server).defer("private_key")
    context = {
        "fragment": fragment,
        "keys": keys,
        "server": server,
        "servers": MtaServer.objects.order_by("name"),
        "fragment_name": FRAGMENT_NAME,
    }
    return render(request, "domains/dkim_fragment.html", context)


@require_POST
def dkim_keys_export(request: HttpRequest) -> HttpResponse:
    """The private keys leave Email Engine only here: operators, POST, audited."""
    require_operator(request)
    server = _server_param(request)
    data, _count = services.dkim_keys_export(server=server, by=request.user)
    filename = f"emailengine-dkim-{server.name}.tar.gz" if server else "emailengine-dkim.tar.gz"
    response = HttpResponse(data, content_type="application/gzip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
