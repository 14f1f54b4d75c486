"""SQL helpers for the accounting import: adding {category: count} JSON objects inside Postgres.

The importer aggregates each batch in one SQL statement (so Postgres does that work on its own core
while Python parses the next batch); these let it merge per-category counts there as well.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION campaigns_jsonb_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        jsonb_object_agg(k, coalesce((a ->> k)::bigint, 0) + coalesce((b ->> k)::bigint, 0)),
        '{}'::jsonb
    )
    FROM jsonb_object_keys(coalesce(a, '{}'::jsonb) || coalesce(b, '{}'::jsonb)) AS k
$$;
CREATE OR REPLACE AGGREGATE campaigns_jsonb_sum(jsonb) (
    SFUNC = campaigns_jsonb_add,
    STYPE = jsonb,
    INITCOND = '{}'
);
"""

DROP = """
DROP AGGREGATE IF EXISTS campaigns_jsonb_sum(jsonb);
DROP FUNCTION IF EXISTS campaigns_jsonb_add(jsonb, jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
