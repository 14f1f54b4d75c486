"""The daily tenant rollup trigger sums category counts with jsonb_each_text + jsonb_object_agg.

campaigns_jsonb_sum calls a SQL function per daily-stat row (twice per updated row: new and old),
about 15 us each: most of the trigger's time and about a third of a 1,000-record webhook batch's
database time. Expanding the objects and summing per (day, tenant, category) is one set-based pass.
"""

from django.db import migrations

_COLUMNS = "day, tenant_id, delivered, hard_bounces, soft_bounces, transient, complaints, received, other, bounce_categories"
_NUMBERS = ("delivered", "hard_bounces", "soft_bounces", "transient", "complaints", "received", "other")


def _rows(table: str, sign: int) -> str:
    numbers = ", ".join(f"{sign} * {name} AS {name}" for name in _NUMBERS)
    return f"SELECT day, tenant_id, {numbers}, bounce_categories, {sign} AS sign FROM {table}"  # noqa: S608


def _upsert(*tables: tuple[str, int]) -> str:
    rows = " UNION ALL ".join(_rows(table, sign) for table, sign in tables)
    sums = ", ".join(f"sum({name})" for name in _NUMBERS)
    return f"""
        WITH delta AS MATERIALIZED ({rows}),
        cats AS (
            SELECT day, tenant_id, jsonb_object_agg(key, n) AS bounce_categories
            FROM (
                SELECT d.day, d.tenant_id, e.key, sum(e.value::bigint * d.sign) AS n
                FROM delta d, jsonb_each_text(d.bounce_categories) e
                GROUP BY 1, 2, 3
            ) by_key
            GROUP BY 1, 2
        )
        INSERT INTO campaigns_dailytenantstat AS t ({_COLUMNS})
        SELECT n.day, n.tenant_id, n.delivered, n.hard_bounces, n.soft_bounces, n.transient, n.complaints, n.received, n.other,
            coalesce(c.bounce_categories, '{{}}'::jsonb)
        FROM (SELECT day, tenant_id, {sums} FROM delta GROUP BY day, tenant_id) AS n (day, tenant_id, {", ".join(_NUMBERS)})
        LEFT JOIN cats c ON c.day = n.day AND c.tenant_id IS NOT DISTINCT FROM n.tenant_id
        ORDER BY n.day, n.tenant_id
        ON CONFLICT ON CONSTRAINT daily_tenant_stat_key DO UPDATE SET
            delivered = t.delivered + EXCLUDED.delivered, hard_bounces = t.hard_bounces + EXCLUDED.hard_bounces, soft_bounces = t.soft_bounces + EXCLUDED.soft_bounces, transient = t.transient + EXCLUDED.transient, complaints = t.complaints + EXCLUDED.complaints, received = t.received + EXCLUDED.received, other = t.other + EXCLUDED.other,
            bounce_categories = CASE WHEN EXCLUDED.bounce_categories = '{{}}'::jsonb THEN t.bounce_categories
                ELSE campaigns_jsonb_add(t.bounce_categories, EXCLUDED.bounce_categories) END;"""  # noqa: S608


ROLLUP = f"""
CREATE OR REPLACE FUNCTION campaigns_dailystat_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{_upsert(("new_rows", 1))}
    ELSIF TG_OP = 'UPDATE' THEN{_upsert(("new_rows", 1), ("old_rows", -1))}
    ELSE{_upsert(("old_rows", -1))}
    END IF;
    RETURN NULL;
END
$$;
"""


def _previous_rollup() -> str:
    """0006's function, for going back (its SQL also creates the triggers: keep only the function)."""
    from importlib import import_module

    previous = import_module("campaigns.migrations.0006_daily_tenant_stat").ROLLUP
    start = previous.index("CREATE OR REPLACE FUNCTION campaigns_dailystat_rollup()")
    return previous[start : previous.index("CREATE TRIGGER")]


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_stat_tables_leave_room_for_updates"),
    ]

    operations = [migrations.RunSQL(ROLLUP, reverse_sql=_previous_rollup())]
