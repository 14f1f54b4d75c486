"""POST /hooks/pmta/accounting: a PMTA host's accounting records (machine-only, per-server token)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from prometheus_client import Counter

from campaigns.accounting.importer import BodyError, accounting_import_body
from ips.services import server_for_token

log = logging.getLogger(__name__)

# Per process: without prometheus_client multiprocess mode each gunicorn worker keeps its own count.
WEBHOOK_REQUESTS = Counter(
    "emailengine_webhook_requests", "Accounting webhook requests by HTTP response status", ["status"]
)


def _count_status(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Outermost, so 401s, 405s from require_POST and unhandled errors (500) are counted as well."""

    @functools.wraps(view)  # keeps csrf_exempt / login_required attributes set by the inner decorators
    def wrapper(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        try:
            response = view(request, *args, **kwargs)
        except Exception:
            WEBHOOK_REQUESTS.labels(status="500").inc()
            raise
        WEBHOOK_REQUESTS.labels(status=str(response.status_code)).inc()
        return response

    return wrapper


# Read the body in pieces so a lying or missing Content-Length cannot make us buffer more than the limit.
_READ_CHUNK = 1 << 20


def _token(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit``.

    Reads the stream directly: request.body would apply DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), which
    is meant for form posts, not for this endpoint's own limit.
    """
    stream: Any = request
    if (
        not request.META.get("CONTENT_LENGTH")
        and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        # A chunked body has no Content-Length, and Django then reads it as empty. The WSGI server
        # (gunicorn) has already decoded the chunks: its wsgi.input ends where the body ends.
        stream = request.META["wsgi.input"]
    parts: list[bytes] = []
    size = 0
    while True:
        part = stream.read(_READ_CHUNK)
        if not part:
            return b"".join(parts)
        size += len(part)
        if size > limit:
            return None
        parts.append(part)


@_count_status
@csrf_exempt
@login_not_required
@require_POST
def pmta_accounting_hook(request: HttpRequest) -> JsonResponse:
    server = server_for_token(_token(request))
    if server is None:
        response = JsonResponse({"error": "missing or invalid bearer token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="pmta-accounting"'
        return response
    limit = settings.ACCOUNTING_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return JsonResponse({"error": "bad Content-Length"}, status=400)
    if declared > limit:
        return JsonResponse({"error": f"body larger than {limit} bytes"}, status=413)
    body = _read_body(request, limit)
    if body is None:
        return JsonResponse({"error": f"body larger than {limit} bytes"}, status=413)
    if request.META.get("HTTP_CONTENT_ENCODING", "identity").lower() not in ("", "identity"):
        return JsonResponse(
            {"error": "Content-Encoding is not supported; send the body uncompressed"}, status=400
        )
    if not body.strip():
        return JsonResponse({"error": "empty body"}, status=400)
    try:
        result = accounting_import_body(
            server=server, body=body, content_type=request.META.get("CONTENT_TYPE", "")
        )
    except BodyError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except DatabaseError:
        # The only 5xx: nothing of the body was committed, so the sender keeps it and retries.
        log.exception("accounting webhook: database error, the sender will retry")
        return JsonResponse({"error": "database unavailable; retry later"}, status=503)
    return JsonResponse(
        {
            "accepted": result.imported,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            **({"held": result.held} if result.held else {}),
            "errors": [{"line": e["line"], "reason": e["reason"]} for e in result.errors],
            **({"errors_truncated": result.errors_truncated} if result.errors_truncated else {}),
        }
    )
