"""The daily tenant rollup trigger negates old rows' category counts once per (day, tenant), not per row.

An import batch updates a few hundred daily-stat rows; running campaigns_jsonb_scale on each old row
was most of the trigger's time (5 ms of a 1,000-record webhook batch). Summing first gives the same
totals: negation distributes over the sum.
"""

import importlib

from django.db import migrations

_COLUMNS = "day, tenant_id, delivered, hard_bounces, soft_bounces, transient, complaints, received, other, bounce_categories"
_SUMS = "sum(delivered) AS delivered, sum(hard_bounces) AS hard_bounces, sum(soft_bounces) AS soft_bounces, sum(transient) AS transient, sum(complaints) AS complaints, sum(received) AS received, sum(other) AS other"
_NEGATED = "-sum(delivered) AS delivered, -sum(hard_bounces) AS hard_bounces, -sum(soft_bounces) AS soft_bounces, -sum(transient) AS transient, -sum(complaints) AS complaints, -sum(received) AS received, -sum(other) AS other"
_NEW = f"SELECT day, tenant_id, {_SUMS}, campaigns_jsonb_sum(bounce_categories) AS bounce_categories FROM new_rows GROUP BY day, tenant_id"  # noqa: S608
_OLD = f"SELECT day, tenant_id, {_NEGATED}, campaigns_jsonb_scale(campaigns_jsonb_sum(bounce_categories), -1) AS bounce_categories FROM old_rows GROUP BY day, tenant_id"  # noqa: S608
_UPSERT = f"""
        INSERT INTO campaigns_dailytenantstat AS t ({_COLUMNS})
        SELECT day, tenant_id, sum(delivered), sum(hard_bounces), sum(soft_bounces), sum(transient), sum(complaints), sum(received), sum(other), campaigns_jsonb_sum(bounce_categories)
        FROM ({{delta}}) AS delta
        GROUP BY day, tenant_id
        ORDER BY day, tenant_id
        ON CONFLICT ON CONSTRAINT daily_tenant_stat_key DO UPDATE SET
            delivered = t.delivered + EXCLUDED.delivered, hard_bounces = t.hard_bounces + EXCLUDED.hard_bounces, soft_bounces = t.soft_bounces + EXCLUDED.soft_bounces, transient = t.transient + EXCLUDED.transient, complaints = t.complaints + EXCLUDED.complaints, received = t.received + EXCLUDED.received, other = t.other + EXCLUDED.other,
            bounce_categories = campaigns_jsonb_add(t.bounce_categories, EXCLUDED.bounce_categories);"""  # noqa: S608

ROLLUP = f"""
CREATE OR REPLACE FUNCTION campaigns_dailystat_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{_UPSERT.format(delta=_NEW)}
    ELSIF TG_OP = 'UPDATE' THEN{_UPSERT.format(delta=_NEW + " UNION ALL " + _OLD)}
    ELSE{_UPSERT.format(delta=_OLD)}
    END IF;
    RETURN NULL;
END
$$;
"""


def _previous_rollup() -> str:
    """0006's function, for going back (its SQL also creates the triggers: keep only the function)."""
    previous = importlib.import_module("campaigns.migrations.0006_daily_tenant_stat").ROLLUP
    start = previous.index("CREATE OR REPLACE FUNCTION campaigns_dailystat_rollup()")
    return previous[start : previous.index("CREATE TRIGGER")]


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0007_event_dedup_by_time_and_uuid"),
    ]

    operations = [migrations.RunSQL(ROLLUP, reverse_sql=_previous_rollup())]
