"""Pagination shared by every list page (kept here because every app may import tenants)."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, qs: QuerySet, per_page: int | None = None) -> Page:
    paginator = Paginator(qs, per_page or settings.PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, so page links keep them."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
