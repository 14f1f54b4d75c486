"""Rows of a read whose statement is compiled once and run on every call.

For a page's aggregate reads over many columns (a sum per count column, rate conditions), building and
compiling the ORM expressions can cost as much as Postgres takes to run the statement. ``compiled_rows`` keeps
the SQL text and its parameters per builder and arguments (never a row: every call runs the statement), so a
builder must be a module-level function whose result depends on its arguments alone: whatever a setting adds
to the statement (thresholds, category names) is passed in as an argument: a change makes a new statement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Model, QuerySet

# Entries are SQL text of a few kB; a tenant user's reads are per tenant, so room for a fleet's tenants.
_MAX_STATEMENTS = 1024


def compiled_rows[**P](
    model: type[Model], build: Callable[P, QuerySet], *args: P.args, **kwargs: P.kwargs
) -> list[dict[str, Any]]:
    """``build(*args, **kwargs)``'s rows as dicts (``.values()`` rows: column alias -> value, no field
    conversion), on the database the router reads ``model`` from now."""
    alias = router.db_for_read(model)
    statement = _statement(build, alias, args, tuple(sorted(kwargs.items())))
    if statement is None:
        return []
    sql, params = statement
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def compiled_count[**P](
    model: type[Model], build: Callable[P, QuerySet], *args: P.args, **kwargs: P.kwargs
) -> int:
    """The number of rows of ``build(*args, **kwargs)`` (counted in Postgres, as ``QuerySet.count()``)."""
    alias = router.db_for_read(model)
    statement = _statement(build, alias, args, tuple(sorted(kwargs.items())))
    if statement is None:
        return 0
    sql, params = statement
    with connections[alias].cursor() as cursor:
        # The statement is the ORM's compiled SQL (values are parameters), as QuerySet.count() wraps it.
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)  # noqa: S608
        return cursor.fetchone()[0]


@functools.lru_cache(maxsize=_MAX_STATEMENTS)
def _statement(
    build: Callable[..., QuerySet],
    alias: str,
    args: tuple[Hashable, ...],
    kwargs: tuple[tuple[str, Hashable], ...],
) -> tuple[str, tuple[Any, ...]] | None:
    """None: a statement that can match no row (``QuerySet.none()``, an empty ``__in``), never run."""
    queryset = build(*args, **dict(kwargs))
    try:
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:
        return None
    return sql, tuple(params)
