from collections.abc import Callable

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
