"""The JSON API at /api/v1/: each app's `api.py` router, assembled here, behind personal API tokens.

Errors are RFC 9457 problem details (`application/problem+json`); the handlers below turn the exceptions
the access helpers, forms and services already raise into them, so routers stay as thin as views.
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from ninja import Field, NinjaAPI, Query, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.operation import Operation

from emailengine.jobs_overview import scheduled_jobs_overview
from tenants.access import require_operator
from tenants.api_kit import (
    ApiProblem,
    Page,
    PageParams,
    TokenAuth,
    conflict,
    invalid,
    paginate,
    problem_response,
)


class EmailEngineAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Short, stable ids for generated clients ("ip_pause", not "ips_api_ip_pause"); they must be unique,
        # which test_api_schema checks.
        return operation.view_func.__name__


api = EmailEngineAPI(
    title="Email Engine API",
    version="1",
    description=(
        "Everything the dashboard does, for scripts. Authenticate with `Authorization: Bearer <token>` "
        "(create one on the API tokens page or with `manage.py create_api_token`); the token acts with "
        "exactly its user's role and tenant. Lists take `limit` and `offset` and answer "
        '`{"items", "count", "next"}`. Errors are RFC 9457 `application/problem+json`.'
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
    docs=Swagger(settings={"persistAuthorization": False, "tryItOutEnabled": False}),
)


def _problem(request: HttpRequest, exc: Any) -> HttpResponse:
    return problem_response(
        request, exc.status, exc.detail, title=exc.title, type=exc.type, errors=exc.errors
    )


def _unauthenticated(request: HttpRequest, exc: Any) -> HttpResponse:
    return problem_response(
        request,
        401,
        "Send a valid API token: Authorization: Bearer <token>.",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def _forbidden(request: HttpRequest, exc: Any) -> HttpResponse:
    return problem_response(request, 403, str(exc) or "Your role cannot change this.")


def _not_found(request: HttpRequest, exc: Any) -> HttpResponse:
    # Never say more: another tenant's object must look exactly like one that does not exist.
    return problem_response(request, 404, "Not found.")


def _http_error(request: HttpRequest, exc: Any) -> HttpResponse:
    return problem_response(request, exc.status_code, str(exc))


def _schema_invalid(request: HttpRequest, exc: Any) -> HttpResponse:
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "reason") -> "reason"; ("query", "limit") -> "limit"
        field = ".".join(loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:])
        errors.append({"field": field, "message": error.get("msg", "invalid")})
    return _problem(request, invalid(errors))


def _integrity(request: HttpRequest, exc: Any) -> HttpResponse:
    return _problem(request, conflict("That would duplicate an existing object."))


api.add_exception_handler(ApiProblem, _problem)
api.add_exception_handler(AuthenticationError, _unauthenticated)
api.add_exception_handler(PermissionDenied, _forbidden)
api.add_exception_handler(Http404, _not_found)
api.add_exception_handler(HttpError, _http_error)
api.add_exception_handler(ValidationError, _schema_invalid)
api.add_exception_handler(IntegrityError, _integrity)


# --- emailengine's own route: the scheduled jobs -------------------------------------------------------

jobs_router = Router(tags=["jobs"])


class JobOut(Schema):
    name: str
    task: str
    schedule: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_success_at: datetime | None
    last_ok: bool | None = Field(description="Outcome of the latest finished run; null before the first")
    last_duration_ms: int | None
    last_error: str
    last_counts: dict | None
    overdue: bool | None = Field(description="The last success is older than the schedule allows")


@jobs_router.get("/jobs", response=Page[JobOut], summary="Every scheduled job and its latest run (operators)")
def job_list(request: HttpRequest, page: Query[PageParams]) -> dict:
    require_operator(request)
    return paginate(request, scheduled_jobs_overview(), page)


def _add_routers() -> None:
    from campaigns.api import router as campaigns_router
    from domains.api import router as domains_router
    from hygiene.api import router as hygiene_router
    from ips.api import router as ips_router
    from mailwizz.api import router as mailwizz_router
    from reputation.api import router as reputation_router
    from tenants.api import router as tenants_router
    from tenants.api import tenants_router as tenant_admin_router
    from warmup.api import router as warmup_router

    routers = (
        tenants_router,
        tenant_admin_router,
        ips_router,
        domains_router,
        reputation_router,
        campaigns_router,
        hygiene_router,
        warmup_router,
        mailwizz_router,
    )
    for router in (*routers, jobs_router):
        api.add_router("", router)


_add_routers()


def _public(patterns: list) -> list:
    """The API authenticates by token, not by session: LoginRequiredMiddleware must let it through."""
    for p in patterns:
        if isinstance(p, URLResolver):
            _public(p.url_patterns)
        elif isinstance(p, URLPattern):
            p.callback.login_required = False  # type: ignore[attr-defined]
    return patterns


def urls() -> tuple[list, str, str]:
    patterns, app_name, namespace = api.urls
    return _public(patterns), app_name, namespace
