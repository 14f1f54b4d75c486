"""Pagination shared by every list page (kept here because every app may import tenants)."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
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


class KeysetPaginator(CappedPaginator):
    """A capped paginator for a table partitioned by ``field`` (the queryset ordered by ``field``, then pk).

    One query reads the keys (``field``, pk) of the first ``cap`` + 1 rows: the count and every page
    reachable under the cap at once, from the indexes alone where they hold both. It runs window by
    window (``windows``: filters on ``field`` that split the rows in the queryset's order, newest first,
    with no gap or overlap) and stops at the window that completes the ``cap`` + 1 rows: each window's
    bounds are constants, so PostgreSQL plans only that window's partitions, and a search with many
    matches plans the latest day or two instead of the whole retention. The page's rows then come by
    primary key and their exact ``field`` values, which plans only the partitions holding them. Two or
    more queries in all, instead of a count and a page that each planned every partition.
    """

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        *,
        cap: int,
        field: str,
        windows: Sequence[Q] = (),
        whole_rows: bool = False,
    ) -> None:
        super().__init__(object_list, per_page, cap=cap)
        self.field = field
        self.windows = list(windows) or [Q()]
        # Whole rows instead of keys, and no second query: for a search whose matches are few (an
        # address), whose index holds no key beyond the searched value anyway.
        self.whole_rows = whole_rows

    @cached_property
    def keys(self) -> list[Any]:
        keys: list[Any] = []
        # ``field`` as text: a thousand values would cost more to load as Python objects than the query
        # takes; only the page's are converted back.
        as_text = Cast(self.field, output_field=TextField())
        for window in self.windows:
            wanted = self.cap + 1 - len(keys)
            rows = self.queryset.filter(window)
            keys += rows[:wanted] if self.whole_rows else rows.values_list(as_text, "pk")[:wanted]
            if len(keys) > self.cap:
                break
        return keys

    @cached_property
    def count(self) -> int:
        self.capped = len(self.keys) > self.cap
        return min(len(self.keys), self.cap)

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.keys[bottom:top]
        rows: list = []
        if self.whole_rows:
            rows = list(keys)
        elif keys:
            to_python = self.queryset.model._meta.get_field(self.field).to_python
            # The page's own values of ``field``: only the partitions holding its rows are planned (an
            # address's few events may lie weeks apart; a range would plan every day between them).
            values = sorted({to_python(value) for value, _ in keys})
            rows = list(self.queryset.filter(pk__in=[pk for _, pk in keys], **{f"{self.field}__in": values}))
        return Page(rows, number, self)


def paginate(
    request: HttpRequest,
    qs: QuerySet,
    per_page: int | None = None,
    *,
    count_cap: int = 0,
    keyset: str = "",
    windows: Sequence[Q] = (),
    whole_rows: bool = False,
) -> Page:
    """A page of ``qs``; ``count_cap`` stops counting there (big tables); ``keyset``: the field a big
    table is partitioned by and ordered by (then pk), read window by window (KeysetPaginator)."""
    per_page = per_page or settings.PAGE_SIZE
    paginator: Paginator
    if count_cap and keyset:
        paginator = KeysetPaginator(
            qs, per_page, cap=count_cap, field=keyset, windows=windows, whole_rows=whole_rows
        )
    elif count_cap:
        paginator = CappedPaginator(qs, per_page, cap=count_cap)
    else:
        paginator = Paginator(qs, per_page)
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, so page links keep them."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
