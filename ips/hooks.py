"""The PMTA host agent's endpoints (server token, machine-only): GET /hooks/pmta/config and
POST /hooks/pmta/applied.

The token decides the server: there is no parameter naming one, so a token can only ever read its own
server's bundle. Replies are JSON and never cached.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ips.agent import ReportError, agent_bundle, agent_report
from ips.models import MtaServer
from ips.services import server_for_token

MAX_REPORT_BYTES = 1024 * 1024


def _server(request: HttpRequest) -> MtaServer | None:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return server_for_token(token.strip()) if scheme.lower() == "bearer" else None


def _unauthorized() -> JsonResponse:
    response = JsonResponse({"error": "missing or invalid bearer token"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="pmta-agent"'
    return response


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@login_not_required
@require_GET
def pmta_config_hook(request: HttpRequest) -> JsonResponse:
    server = _server(request)
    if server is None:
        return _unauthorized()
    bundle = agent_bundle(server=server, agent=request.META.get("HTTP_USER_AGENT", ""))
    return _no_store(JsonResponse(bundle))


@csrf_exempt
@login_not_required
@require_POST
def pmta_applied_hook(request: HttpRequest) -> JsonResponse:
    server = _server(request)
    if server is None:
        return _unauthorized()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return JsonResponse({"error": "bad Content-Length"}, status=400)
    if declared > MAX_REPORT_BYTES:
        return JsonResponse({"error": f"body larger than {MAX_REPORT_BYTES} bytes"}, status=413)
    try:
        report = json.loads(request.body or b"null")
        result = agent_report(server=server, report=report, agent=request.META.get("HTTP_USER_AGENT", ""))
    except (ValueError, ReportError) as exc:  # json.JSONDecodeError is a ValueError
        return JsonResponse({"error": str(exc)}, status=400)
    return _no_store(
        JsonResponse(
            {
                "desired_version": result.desired_version,
                "applied_version": result.applied_version,
                "commands_recorded": result.commands_recorded,
            }
        )
    )
