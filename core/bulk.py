"""Fast bulk writes for schedules that change thousands of rows at once.

Django's bulk_update builds one CASE WHEN per row and field, and bulk_create one placeholder per value; at a
few thousand rows the query text alone costs seconds to build and bind. Here each column travels as one
array parameter and Postgres unnests them, so the statement stays small whatever the row count.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.options import Options

qn = connection.ops.quote_name


def quoted_column(model: type[Model], name: str) -> str:
    """The quoted column of one of the model's concrete fields, for SQL built from model metadata."""
    return _column(_concrete(model._meta, name))


def _column(field: Field) -> str:
    """The field's quoted column (every concrete field has one)."""
    if field.column is None:
        raise ValueError(f"{field} has no column")
    return qn(field.column)


def _concrete(meta: "Options[Any]", name: str) -> Field:
    field = meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise ValueError(f"{meta.label}.{name} is not a concrete field")
    return field


def _array_param(field: Field, objs: Sequence[Model]) -> tuple[list[object], str]:
    """The column's values as one array, with the cast that turns the array back into the column's type."""
    db_type = field.db_type(connection)
    values = [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
    if db_type == "jsonb":
        # Arrays of jsonb adapt poorly; send text and cast each element.
        values = [None if v is None else v.dumps(v.obj) for v in values]
        return values, "text[]"
    return values, f"{db_type}[]"


def _element(field: Field, alias: str) -> str:
    column = _column(field)
    return f"{alias}.{column}::jsonb" if field.db_type(connection) == "jsonb" else f"{alias}.{column}"


def _unnest(columns: list[Field], objs: Sequence[Model]) -> tuple[list[list[object]], str, str]:
    """One array parameter per column: the parameters, ``unnest(...)`` over them, and the column names."""
    params: list[list[object]] = []
    arrays: list[str] = []
    for field in columns:
        values, cast = _array_param(field, objs)
        params.append(values)
        arrays.append(f"%s::{cast}")
    return params, f"unnest({', '.join(arrays)})", ", ".join(_column(c) for c in columns)


def bulk_update_values(objs: Sequence[Model], fields: list[str]) -> int:
    """Write `fields` of every object in one statement; returns the number of rows updated."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    columns = [_concrete(meta, meta.pk.name)] + [_concrete(meta, name) for name in fields]
    params, unnest, names = _unnest(columns, objs)
    assignments = ", ".join(f"{_column(c)} = {_element(c, 'v')}" for c in columns[1:])
    pk = _column(columns[0])
    sql = (
        f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - identifiers come from model metadata
        f"FROM {unnest} AS v({names}) WHERE t.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def bulk_insert_values(objs: Sequence[Model]) -> int:
    """INSERT every object in one statement (no ids come back: for append-only rows such as logs)."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    for obj in objs:
        for f in columns:
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                f.pre_save(obj, add=True)
    params, unnest, names = _unnest(columns, objs)
    select = ", ".join(_element(c, "v") for c in columns)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({names}) "  # noqa: S608 - identifiers come from model metadata
        f"SELECT {select} FROM {unnest} AS v({names})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
