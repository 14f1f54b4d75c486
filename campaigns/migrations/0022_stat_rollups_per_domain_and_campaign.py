"""Two more rollups of DailyStat, kept by the daily-stat trigger like DailyTenantStat (0006, 0009):

- DailyDomainStat, per UTC day x tenant x recipient domain: the daily stats by provider and by tenant;
- DailyCampaignStat, per campaign x UTC day: the campaign list's totals.

Both keep the bounce and deferral category counts (the block counts are read from them by
campaigns.stats.sums, so SIGNAL_BLOCK_CATEGORIES may change). A trigger sees every way DailyStat is
written: the importer's upserts, COPY, the ORM, a tenant's deletion (its rows cascade) and a campaign's
(its rows' campaign is set to NULL).

One statement per DailyStat statement keeps all three: the transition tables are read once, their
category objects expanded once (set-based, as 0009), then one upsert per rollup, each in key order (so
concurrent imports lock shared rows in the same order). Category counts that net to zero are left out, so
a row whose categories did not change is not merged at all. Rows of the two new rollups whose counts all
went back to zero are deleted after the upsert; DailyTenantStat keeps its zero rows as before.

The backfill runs with DailyStat locked against writes (SHARE ROW EXCLUSIVE; reads go on): a write
committed between the new trigger and the backfill's snapshot would otherwise be counted twice or never.
"""

# Only this module's constants are formatted into the SQL below (no input ever is).
# ruff: noqa: S608
from importlib import import_module

from django.db import migrations, models

_NUMBERS = ("delivered", "hard_bounces", "soft_bounces", "transient", "complaints", "received", "other")
_STAT = "campaigns_dailystat"


def _delta(table: str, sign: int) -> str:
    numbers = ", ".join(f"{sign} * {name} AS {name}" for name in _NUMBERS)
    return (
        f"SELECT day, tenant_id, rcpt_domain, campaign_id, {numbers}, bounce_categories, "
        f"transient_categories, {sign} AS sign FROM {table}"
    )


def _cats(source: str) -> str:
    """Every (row, kind, category, count) of ``source``: b = bounce, t = transient (deferral)."""
    return f"""
        SELECT d.day, d.tenant_id, d.rcpt_domain, d.campaign_id, 'b' AS kind, e.key, e.value::bigint * d.sign AS n
        FROM {source} d, jsonb_each_text(d.bounce_categories) e
        UNION ALL
        SELECT d.day, d.tenant_id, d.rcpt_domain, d.campaign_id, 't', e.key, e.value::bigint * d.sign
        FROM {source} d, jsonb_each_text(d.transient_categories) e"""


def _merge(column: str) -> str:
    return (
        f"{column} = CASE WHEN EXCLUDED.{column} = '{{}}'::jsonb THEN t.{column} "
        f"ELSE campaigns_jsonb_add(t.{column}, EXCLUDED.{column}) END"
    )


_ADD = ", ".join(f"{name} = t.{name} + EXCLUDED.{name}" for name in _NUMBERS)
_SUMS = ", ".join(f"sum({name}) AS {name}" for name in _NUMBERS)
_EMPTY = " AND ".join(f"{name} = 0" for name in _NUMBERS)


def _rollup(
    *,
    name: str,
    table: str,
    keys: tuple[str, ...],
    constraint: str,
    kinds: str,
    where: str = "TRUE",
    upsert: bool = True,
) -> str:
    """The CTEs that upsert ``delta`` (and its categories, ``cats``) into one rollup ``table`` keyed by
    ``keys``; ``kinds``: 'b' (bounce categories only) or 'bt' (and deferral categories)."""
    key_list = ", ".join(keys)
    # tenant_id may be NULL; the other keys never are, and an equality lets the join be hashed.
    join = " AND ".join(
        f"c.{k} IS NOT DISTINCT FROM n.{k}" if k == "tenant_id" else f"c.{k} = n.{k}" for k in keys
    )
    columns = ["bounce_categories"] + (["transient_categories"] if "t" in kinds else [])
    aggs = ", ".join(
        f"jsonb_object_agg(key, n) FILTER (WHERE kind = '{kind}') AS {column}"
        for kind, column in zip("bt", columns, strict=False)
    )
    picked = ", ".join(f"coalesce(c.{column}, '{{}}'::jsonb)" for column in columns)
    merges = ", ".join(_merge(column) for column in columns)
    kind_filter = "" if "t" in kinds else "AND kind = 'b'"
    conflict = f"ON CONFLICT ON CONSTRAINT {constraint} DO UPDATE SET {_ADD}, {merges}" if upsert else ""
    return f"""
    {name}_cats AS (
        SELECT {key_list}, {aggs}
        FROM (
            SELECT {key_list}, kind, key, sum(n) AS n FROM cats WHERE {where} {kind_filter}
            GROUP BY {key_list}, kind, key HAVING sum(n) <> 0
        ) by_key
        GROUP BY {key_list}
    ),
    {name}_up AS (
        INSERT INTO {table} AS t ({key_list}, {", ".join(_NUMBERS)}, {", ".join(columns)})
        SELECT {", ".join(f"n.{k}" for k in keys)}, {", ".join(f"n.{x}" for x in _NUMBERS)}, {picked}
        FROM (SELECT {key_list}, {_SUMS} FROM delta WHERE {where} GROUP BY {key_list}) AS n
        LEFT JOIN {name}_cats c ON {join}
        ORDER BY {", ".join(f"n.{k}" for k in keys)}
        {conflict}
        RETURNING t.id, ({" AND ".join(f"t.{x} = 0" for x in _NUMBERS)}) AS empty
    )"""


_TENANT = {
    "name": "tenant",
    "table": "campaigns_dailytenantstat",
    "keys": ("day", "tenant_id"),
    "constraint": "daily_tenant_stat_key",
    "kinds": "b",
}
_DOMAIN = {
    "name": "domain",
    "table": "campaigns_dailydomainstat",
    "keys": ("day", "tenant_id", "rcpt_domain"),
    "constraint": "daily_domain_stat_key",
    "kinds": "bt",
}
_CAMPAIGN = {
    "name": "campaign",
    "table": "campaigns_dailycampaignstat",
    "keys": ("campaign_id", "day"),
    "constraint": "daily_campaign_stat_key",
    "kinds": "bt",
    "where": "campaign_id IS NOT NULL",
}


def _statement(rows: str, *rollups: dict) -> str:
    """One statement: ``rows`` as the delta, upserted into each rollup; the ids of the new rollups' rows
    that are now empty go INTO empty_domains, empty_campaigns."""
    parts = ",".join(_rollup(**r) for r in rollups)
    return f"""
    WITH delta AS MATERIALIZED ({rows}),
    cats AS MATERIALIZED ({_cats("delta")}),{parts}
    SELECT (SELECT array_agg(id) FROM domain_up WHERE empty), (SELECT array_agg(id) FROM campaign_up WHERE empty)
    INTO empty_domains, empty_campaigns;"""


def _body(rows: str) -> str:
    return f"""{_statement(rows, _TENANT, _DOMAIN, _CAMPAIGN)}
        IF empty_domains IS NOT NULL THEN
            DELETE FROM campaigns_dailydomainstat WHERE id = ANY(empty_domains) AND {_EMPTY};
        END IF;
        IF empty_campaigns IS NOT NULL THEN
            DELETE FROM campaigns_dailycampaignstat WHERE id = ANY(empty_campaigns) AND {_EMPTY};
        END IF;"""


ROLLUP = f"""
CREATE OR REPLACE FUNCTION campaigns_dailystat_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    empty_domains bigint[];
    empty_campaigns bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN{_body(_delta("new_rows", 1))}
    ELSIF TG_OP = 'UPDATE' THEN{_body(_delta("new_rows", 1) + " UNION ALL " + _delta("old_rows", -1))}
    ELSE{_body(_delta("old_rows", -1))}
    END IF;
    RETURN NULL;
END
$$;
"""


def _backfill(rollup: dict) -> str:
    """The rollup from every DailyStat row: plain inserts (the table is new; its unique constraint is
    only added at the end of this migration)."""
    rows = _delta(_STAT, 1)
    return f"""
    WITH delta AS MATERIALIZED ({rows}),
    cats AS MATERIALIZED ({_cats("delta")}),{_rollup(**rollup, upsert=False)}
    SELECT count(*) FROM {rollup["name"]}_up;"""


FORWARD = f"""
LOCK TABLE {_STAT} IN SHARE ROW EXCLUSIVE MODE;
{ROLLUP}
{_backfill(_DOMAIN)}
{_backfill(_CAMPAIGN)}
DELETE FROM campaigns_dailydomainstat WHERE {_EMPTY};
DELETE FROM campaigns_dailycampaignstat WHERE {_EMPTY};
"""


def _previous_rollup() -> str:
    """0009's function, for going back."""
    return import_module("campaigns.migrations.0009_rollup_sums_categories_set_based").ROLLUP


_TABLES = ("campaigns_dailydomainstat", "campaigns_dailycampaignstat")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0021_suppression_import_keeps_the_request"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyCampaignStat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("delivered", models.BigIntegerField(default=0)),
                ("hard_bounces", models.BigIntegerField(default=0)),
                ("soft_bounces", models.BigIntegerField(default=0)),
                ("transient", models.BigIntegerField(default=0)),
                ("complaints", models.BigIntegerField(default=0)),
                ("received", models.BigIntegerField(default=0)),
                ("other", models.BigIntegerField(default=0)),
                ("campaign_id", models.BigIntegerField()),
                ("day", models.DateField()),
                ("bounce_categories", models.JSONField(blank=True, default=dict)),
                ("transient_categories", models.JSONField(blank=True, default=dict)),
            ],
            options={
                "ordering": ["campaign_id", "-day"],
                "constraints": [
                    models.UniqueConstraint(fields=("campaign_id", "day"), name="daily_campaign_stat_key")
                ],
            },
        ),
        migrations.CreateModel(
            name="DailyDomainStat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("delivered", models.BigIntegerField(default=0)),
                ("hard_bounces", models.BigIntegerField(default=0)),
                ("soft_bounces", models.BigIntegerField(default=0)),
                ("transient", models.BigIntegerField(default=0)),
                ("complaints", models.BigIntegerField(default=0)),
                ("received", models.BigIntegerField(default=0)),
                ("other", models.BigIntegerField(default=0)),
                ("day", models.DateField()),
                ("tenant_id", models.BigIntegerField(blank=True, null=True)),
                ("rcpt_domain", models.CharField(blank=True, max_length=255)),
                ("bounce_categories", models.JSONField(blank=True, default=dict)),
                ("transient_categories", models.JSONField(blank=True, default=dict)),
            ],
            options={
                "ordering": ["-day", "rcpt_domain"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "tenant_id", "rcpt_domain"),
                        name="daily_domain_stat_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        # Updated by every import batch, like the other stat tables (0008): room for HOT updates.
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET (fillfactor = 70)" for table in _TABLES],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(FORWARD, reverse_sql=_previous_rollup()),
    ]
