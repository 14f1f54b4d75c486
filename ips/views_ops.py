"""Operator pages for running PMTA hosts: rendered config, health polls, rDNS checks, pasted top queues."""

from __future__ import annotations

import io
import tarfile
import time

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.http import HtmxRequest
from ips.access import get_ip_for_user, get_server_for_user
from ips.health import server_health_poll
from ips.pmta_config import (
    config_diff,
    config_digest,
    config_render_and_store,
    diff_stats,
    include_dir,
    latest_render,
    render_server_config,
)
from ips.rdns_service import ip_rdns_check
from ips.selectors import ips_for_vmtas
from ips.topqueues import TopQueuesError, parse_topqueues
from tenants.access import require_operator

MAX_PASTE_CHARS = 2_000_000


def _redirect_to(name: str, fallback: str, **kwargs: int) -> HttpResponse:
    try:
        return redirect(reverse(name, kwargs=kwargs))
    except NoReverseMatch:
        return redirect(fallback)


# --- rendered PMTA config --------------------------------------------------------------------------------


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _tarball(files: dict[str, str]) -> bytes:
    """The files under their paths on the PMTA host, relative (etc/pmta/emailengine/...)."""
    base = include_dir().lstrip("/")
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, now
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@require_http_methods(["GET", "POST"])
def server_config(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_server_for_user(request, server_id, write=request.method == "POST")
    if request.method == "POST":
        render_obj, diff = config_render_and_store(server=server, by=request.user)
        if diff:
            added, removed = diff_stats(diff)
            messages.success(request, f"Config saved ({render_obj.digest[:19]}…, +{added} -{removed} lines).")
        else:
            messages.info(request, "Nothing changed since the last saved render.")
        return redirect("server_config", server_id=server.pk)

    files = render_server_config(server)
    download = request.GET.get("download")
    if download == "all":
        digest = config_digest(files)[7:15]
        return _attachment(_tarball(files), f"pmta-{server.name}-{digest}.tar.gz", "application/gzip")
    if download:
        if download not in files:
            raise Http404("No such file")
        return _attachment(files[download].encode(), download, "text/plain; charset=utf-8")

    previous = latest_render(server)
    digest = config_digest(files)
    diff = config_diff(previous.files, files) if previous else ""
    added, removed = diff_stats(diff)
    recent = list(server.config_renders.order_by("-created_at", "-pk")[:10])
    return render(
        request,
        "ips/ops/server_config.html",
        {
            "server": server,
            "files": sorted(files.items()),
            "digest": digest,
            "previous": previous,
            "unsaved": previous is None or previous.digest != digest,
            "diff_lines": [(_diff_class(line), line) for line in diff.splitlines()],
            "added": added,
            "removed": removed,
            "recent": recent,
        },
    )


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    return {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")


# --- health ----------------------------------------------------------------------------------------------


@require_POST
def server_health_poll_view(request: HtmxRequest, server_id: int) -> HttpResponse:
    server = get_server_for_user(request, server_id, write=True)
    result = server_health_poll(server=server)
    if request.htmx:
        return render(request, "ips/ops/_server_health.html", {"server": server, "oob": True})
    if result.up is False:
        messages.error(request, f"{server.name} is down: {result.error}")
    else:
        messages.success(request, f"{server.name}: {result.label}.")
    return _redirect_to("server_detail", "server_config", server_id=server.pk)


# --- rDNS ------------------------------------------------------------------------------------------------


@require_POST
def ip_rdns_check_view(request: HtmxRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id, write=True)
    result = ip_rdns_check(ip=ip, by=request.user)
    if request.htmx:
        return render(request, "ips/ops/_ip_rdns.html", {"ip": ip})
    messages.info(request, f"rDNS of {ip.address}: {result.status}. {result.explanation}")
    return _redirect_to("ip_detail", "home", ip_id=ip.pk)


# --- pasted `pmta --dom show topqueues` ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def topqueues_paste(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    context: dict[str, object] = {"text": "", "error": "", "result": None, "queues": [], "rows": []}
    status = 200
    if request.method == "POST":
        text = request.POST.get("output", "")
        context["text"] = text
        if len(text) > MAX_PASTE_CHARS:
            context["error"] = f"That is more than {MAX_PASTE_CHARS:,} characters; paste fewer queues."
            status = 400
        else:
            try:
                result = parse_topqueues(text)
            except TopQueuesError as exc:
                context["error"] = str(exc)
                status = 400
            else:
                queues = result.by_recipients()
                known = ips_for_vmtas(queues)
                rows = [(q, known.get(q.vmta)) for q in queues]
                context.update(result=result, queues=queues, rows=rows)
    return render(request, "ips/ops/topqueues.html", context, status=status)
