from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.audit import request_ip, request_via
from tenants.access import actor_for

# Pages a signed-in user without a tenant may still reach (Django's admin checks staff itself).
_NO_TENANT_ALLOWED = frozenset({"logout", "login"})


class AuditContextMiddleware:
    """Makes the client address available to audit_record() without threading the request through services."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_ip.set(request.META.get("REMOTE_ADDR") or None)
        # The API's token auth sets `via` inside the request; this reset ends it with the request.
        via_token = request_via.set("")
        try:
            return self.get_response(request)
        finally:
            request_via.reset(via_token)
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


class NoTenantMiddleware:
    """A signed-in user who is neither staff nor a member of any tenant sees one clear page saying so.

    Such an account (created in the admin, or whose membership was removed) would otherwise reach pages
    that assume one of the two, and get errors or empty screens. Views open without login (health, metrics,
    webhooks) and the API (its own token auth) are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: object,
        view_kwargs: object,
    ) -> HttpResponse | None:
        if not request.user.is_authenticated or not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is None or match.url_name in _NO_TENANT_ALLOWED or match.app_name == "admin":
            return None
        if request.path.startswith("/api/"):
            return None
        actor = actor_for(request)
        if actor.is_operator or actor.tenant_id is not None:
            return None
        return render(request, "tenants/no_tenant.html", status=403)
