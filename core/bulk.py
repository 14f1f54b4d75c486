"""Fast bulk writes for schedules that change thousands of rows at once.

Django's bulk_update builds one CASE WHEN per row and field, and bulk_create one placeholder per value; at a
few thousand rows the query text alone costs seconds to build and bind. Here each column travels as one
array parameter and Postgres unnests them, so the statement stays small whatever the row count.
"""

from django.db import connection
from django.db.models import Field, Model


def _array_param(field: Field, objs: list[Model]) -> tuple[list[object], str]:
    """The column's values as one array, with the cast that turns the array back into the column's type."""
    db_type = field.db_type(connection)
    values = [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
    if db_type == "jsonb":
        # Arrays of jsonb adapt poorly; send text and cast each element.
        values = [None if v is None else v.dumps(v.obj) for v in values]
        return values, "text[]"
    return values, f"{db_type}[]"


def _element(field: Field, alias: str) -> str:
    column = connection.ops.quote_name(field.column)
    return f"{alias}.{column}::jsonb" if field.db_type(connection) == "jsonb" else f"{alias}.{column}"


def bulk_update_values(objs: list[Model], fields: list[str]) -> int:
    """Write `fields` of every object in one statement; returns the number of rows updated."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    qn = connection.ops.quote_name
    columns = [meta.pk] + [meta.get_field(name) for name in fields]
    params, arrays = [], []
    for field in columns:
        values, cast = _array_param(field, objs)
        params.append(values)
        arrays.append(f"%s::{cast}")
    names = ", ".join(qn(c.column) for c in columns)
    assignments = ", ".join(f"{qn(c.column)} = {_element(c, 'v')}" for c in columns[1:])
    pk = qn(meta.pk.column)
    sql = (
        f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - identifiers come from model metadata
        f"FROM unnest({', '.join(arrays)}) AS v({names}) WHERE t.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def bulk_insert_values(objs: list[Model]) -> int:
    """INSERT every object in one statement (no ids come back: for append-only rows such as logs)."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    qn = connection.ops.quote_name
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    for obj in objs:
        for f in columns:
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                f.pre_save(obj, add=True)
    params, arrays = [], []
    for field in columns:
        values, cast = _array_param(field, objs)
        params.append(values)
        arrays.append(f"%s::{cast}")
    names = ", ".join(qn(c.column) for c in columns)
    select = ", ".join(_element(c, "v") for c in columns)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({names}) "  # noqa: S608 - identifiers come from model metadata
        f"SELECT {select} FROM unnest({', '.join(arrays)}) AS v({names})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
