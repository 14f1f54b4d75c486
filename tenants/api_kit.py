"""The pieces every app's `api.py` shares: token auth, problem+json errors, pagination, form validation.

Lives in `tenants` (the lowest app every other may import) so each app's router can use it; the API
itself is assembled in `emailengine/api.py`. The API never has rules of its own: routers look objects up
through the same access helpers as the views, validate input with the same forms, and change things through
the same services, so a token can do exactly what its user can do in the browser.
"""

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Schema
from ninja.security import HttpBearer

from core.audit import request_via
from tenants.models import ApiToken
from tenants.services import api_token_authenticate

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types (RFC 9457 section 3.1.1) beyond the plain status codes, which use "about:blank".
PROBLEM_INVALID = "/api/v1/problems/invalid-input"
PROBLEM_CONFLICT = "/api/v1/problems/conflict"

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


# --- authentication ------------------------------------------------------------------------------------


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <API token>`; the request then runs as the token's user.

    Setting request.user is what makes the access helpers (tenants.access.actor_for and every
    get_<model>_for_user) apply that user's role and tenant scope, exactly as for a browser session.
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_authenticate(token.strip())
        if found is None:
            return None
        request.user = found.user
        # Whatever ran before (a browser session on the same request) must not decide the scope.
        request.__dict__.pop("_actor", None)
        request.api_token = found  # type: ignore[attr-defined]
        # Reset at the end of the request by tenants.middleware.AuditContextMiddleware.
        request_via.set(f"api token: {found.name}")
        return found


# --- errors (RFC 9457 problem details) -----------------------------------------------------------------


class ApiProblem(Exception):
    """Raise anywhere in a router to answer with a problem+json document."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        title: str = "",
        type: str = "about:blank",
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        self.status, self.detail, self.title, self.type, self.errors = status, detail, title, type, errors
        super().__init__(detail or title)


def problem_response(
    request: HttpRequest,
    status: int,
    detail: str = "",
    *,
    title: str = "",
    type: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    from http import HTTPStatus

    body: dict[str, Any] = {
        "type": type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def invalid(errors: list[dict[str, str]], detail: str = "") -> ApiProblem:
    """A 422 with one entry per field: {"field": "reason", "message": "..."} ("" for the whole input)."""
    first = errors[0] if errors else {"field": "", "message": "Invalid input."}
    shown = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return ApiProblem(422, detail or shown, title="Invalid input", type=PROBLEM_INVALID, errors=errors)


def conflict(detail: str) -> ApiProblem:
    """The input is well-formed but the object's state refuses it (e.g. resuming an IP that is not paused)."""
    return ApiProblem(409, detail, title="Conflict", type=PROBLEM_CONFLICT)


def form_errors(form: forms.BaseForm) -> list[dict[str, str]]:
    return [
        {"field": "" if name == "__all__" else name, "message": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]


def validated[F: forms.BaseForm](form: F) -> F:
    """The dashboard's own form decides what is valid; its errors become the problem's field errors."""
    if not form.is_valid():
        raise invalid(form_errors(form))
    return form


def form_input(data: Mapping[str, Any]) -> dict[str, Any]:
    """JSON input shaped like a POSTed form: None means "not given", lists stay lists, the rest is text."""
    shaped: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, bool):
            shaped[key] = "on" if value else ""
        elif isinstance(value, (list, tuple)):
            shaped[key] = [str(v) for v in value]
        else:
            shaped[key] = str(value)
    return shaped


# --- pagination ----------------------------------------------------------------------------------------


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (at most 500)")
    offset: int = Field(0, ge=0, description="Items to skip")


class Page[T](Schema):
    items: list[T]
    count: int = Field(description="Items matching the query, on every page")
    next: str | None = Field(description="URL of the next page, null on the last one")


class CappedPage[T](Page[T]):
    capped: bool = Field(description="The table is too big to count: `count` is a floor, not the total")


def paginate(
    request: HttpRequest,
    qs: QuerySet | Iterable[Any],
    page: PageParams,
    *,
    count_cap: int = 0,
    count: int | None = None,
) -> dict[str, Any]:
    """One page of `qs` and its total: two queries (the count and the page) whatever the sizes.

    ``count_cap`` stops counting there (core.paging.CappedPaginator, for tables of millions of rows);
    the reply then also says whether the count is `capped`. ``count``: the total, counted by the caller
    (a cheaper query for the same rows), so only the page is read here."""
    capped = False
    if isinstance(qs, QuerySet) and count is not None:
        items = list(qs[page.offset : page.offset + page.limit])
    elif isinstance(qs, QuerySet) and count_cap:
        found = qs[: count_cap + 1].count()
        capped, count = found > count_cap, min(found, count_cap)
        items = list(qs[page.offset : page.offset + page.limit])
    elif isinstance(qs, QuerySet):
        count = qs.count()
        items = list(qs[page.offset : page.offset + page.limit])
    else:
        rows = list(qs)
        count = len(rows)
        items = rows[page.offset : page.offset + page.limit]
    nxt = None
    if page.offset + page.limit < count or (capped and len(items) == page.limit):
        params = request.GET.copy()
        params["limit"] = str(page.limit)
        params["offset"] = str(page.offset + page.limit)
        nxt = request.build_absolute_uri(request.path + "?" + urlencode(sorted(params.items())))
    return {"items": items, "count": count, "next": nxt, "capped": capped}
