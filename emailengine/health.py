"""Liveness and readiness for load balancers and orchestrators.

Both answer anyone (no login), so a failure says which dependency is down, never its error text: that names
hosts, ports, users and database names. The full error goes to the log.
"""

import hmac
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


log = logging.getLogger(__name__)
UNAVAILABLE = "unavailable"


def check_database() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.warning("readyz: the database check failed", exc_info=True)
        return UNAVAILABLE
    return None


def check_broker() -> str | None:
    from emailengine.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=1, timeout=2)
    except Exception:
        log.warning("readyz: the broker check failed", exc_info=True)
        return UNAVAILABLE
    return None


@login_not_required
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    problems = {"database": check_database(), "broker": check_broker()}
    failed = {name: error for name, error in problems.items() if error}
    body = {
        "status": "ok" if not failed else "unavailable",
        "checks": {name: (error or "ok") for name, error in problems.items()},
        "broker": settings.CELERY_BROKER_URL.split("://", 1)[0],
    }
    return JsonResponse(body, status=503 if failed else 200)


@login_not_required
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics; with METRICS_TOKEN set, only for ``Authorization: Bearer <METRICS_TOKEN>``.

    nginx restricts /metrics to the scrapers' addresses; the token also covers what nginx does not see
    (the web service's own port inside the compose network, a proxy misconfiguration).
    """
    from django_prometheus import exports

    expected = settings.METRICS_TOKEN
    if expected:
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            response = HttpResponse(
                "a valid bearer token is required\n", status=401, content_type="text/plain"
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return exports.ExportToDjangoView(request)
