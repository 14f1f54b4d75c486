"""Pagination shared by every list page (kept here because every app may import tenants)."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows: on a table of millions an exact COUNT(*) would cost more than the
    page itself. ``capped`` says the total shown is a floor."""

    def __init__(self, object_list: QuerySet, per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        found = self.queryset[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)


def paginate(request: HttpRequest, qs: QuerySet, per_page: int | None = None, *, count_cap: int = 0) -> Page:
    """A page of ``qs``; ``count_cap`` stops counting there (big tables)."""
    per_page = per_page or settings.PAGE_SIZE
    paginator = CappedPaginator(qs, per_page, cap=count_cap) if count_cap else Paginator(qs, per_page)
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, so page links keep them."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
