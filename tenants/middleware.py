from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tenants.audit import request_ip


class AuditContextMiddleware:
    """Makes the client address available to audit_record() without threading the request through services."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)


class RealClientIPMiddleware:
    """Behind nginx every request comes from 127.0.0.1; take the client address nginx puts in X-Real-IP.

    Only with BEHIND_PROXY=1, because without a proxy that overwrites the header a client could set it to
    anything (and then dodge the login lockout or forge the address in the audit log).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.BEHIND_PROXY:
            real = request.META.get("HTTP_X_REAL_IP", "").strip()
            if real:
                request.META["REMOTE_ADDR"] = real
        return self.get_response(request)
