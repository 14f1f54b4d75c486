"""The SQL of the accounting import (campaigns.accounting.importer): COPY, the batch's aggregation, campaigns.

Only table names (from model Meta, never input) are formatted into SQL; values are always parameters.
"""

from campaigns.accounting.classify import FAILURES
from campaigns.accounting.stage import COPY_OPTIONS, STAGE_COLUMNS
from campaigns.models import (
    AccountingCounter,
    AccountingFile,
    Campaign,
    DailyStat,
    DeliveryEvent,
    ImportRejection,
    Suppression,
)

EVENT = DeliveryEvent._meta.db_table
STAT = DailyStat._meta.db_table
CAMPAIGN = Campaign._meta.db_table
SUPPRESSION = Suppression._meta.db_table
FILE = AccountingFile._meta.db_table
REJECTION = ImportRejection._meta.db_table
COUNTER = AccountingCounter._meta.db_table
STAGE = "campaigns_acct_stage"
FAILURE_LIST = ", ".join(f"'{outcome}'" for outcome in FAILURES)

COLUMNS = ", ".join((*STAGE_COLUMNS, "id"))
# The fast way in: COPY straight into the event table. A record already there (a re-sent webhook
# batch, a file that overlaps the webhook) makes the unique index refuse the whole COPY; that batch
# then goes through the stage table and ON CONFLICT DO NOTHING instead.
COPY_EVENTS = f"COPY {EVENT} ({COLUMNS}) FROM STDIN WITH ({COPY_OPTIONS})"
STAGE_DDL = f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (LIKE {EVENT} INCLUDING DEFAULTS)"
COPY_STAGE = f"COPY {STAGE} ({COLUMNS}) FROM STDIN WITH ({COPY_OPTIONS})"
INSERT_STAGED = f"""
INSERT INTO {EVENT} ({COLUMNS}) SELECT {COLUMNS} FROM {STAGE}
ON CONFLICT ON CONSTRAINT event_time_fingerprint_unique DO NOTHING
"""  # noqa: S608

# Event ids are taken from the sequence before COPY, so the batch's new rows are found again by id
# (a plain range unless another importer took ids in between).
RESERVE_IDS = """
SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE array_agg(v ORDER BY v) END
FROM (SELECT nextval(%(seq)s::regclass) AS v FROM generate_series(1, %(n)s)) ids
"""

# Where a remote bounce's original message went (importer._credit_to_origin): the latest d/b/t event
# with its envelope id (the partial event_env_id index), or to its recipient from its sender. The
# second one names every tenant id so that (tenant_id, rcpt) index serves it.
ORIGIN_BY_ENV_ID = f"""
SELECT DISTINCT ON (env_id) env_id, tenant_id, campaign_key, campaign_id FROM {EVENT}
WHERE env_id = ANY(%s::text[]) AND env_id <> '' AND tenant_id IS NOT NULL AND type IN ('d', 'b', 't')
ORDER BY env_id, time_logged DESC
"""  # noqa: S608
ORIGIN_BY_RCPT = f"""
SELECT DISTINCT ON (rcpt, lower(orig)) rcpt, orig, tenant_id, campaign_key, campaign_id FROM {EVENT}
WHERE tenant_id = ANY(%s::bigint[]) AND rcpt = ANY(%s::text[]) AND type IN ('d', 'b', 't')
ORDER BY rcpt, lower(orig), time_logged DESC
"""  # noqa: S608

# Campaigns the stage builder had no id for: found, or created (first/last seen are set from the
# records by INGEST_SQL).
CAMPAIGN_FIND = f"""
SELECT c.id, c.tenant_id, c.key FROM unnest(%s::bigint[], %s::text[]) AS k (tenant_id, key)
JOIN {CAMPAIGN} c ON c.key = k.key
    AND (c.tenant_id = k.tenant_id OR c.tenant_id IS NULL AND k.tenant_id IS NULL)
"""  # noqa: S608
CAMPAIGN_CREATE = f"""
INSERT INTO {CAMPAIGN} (tenant_id, key, name, first_seen, last_seen)
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[]) ORDER BY 1, 2
ON CONFLICT ON CONSTRAINT campaign_key_unique_per_tenant DO NOTHING
RETURNING id, tenant_id, key
"""  # noqa: S608

# First/last seen of the batch's campaigns, moved on after the batch committed. Rows are locked in id
# order: UPDATE ... FROM locks in whatever order its join produces, and two writers doing the same
# campaigns in different orders would deadlock.
CAMPAIGN_SEEN = f"""
WITH s AS (
    SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS s (id, first_seen, last_seen)
),
locked AS (
    SELECT c.id FROM {CAMPAIGN} c JOIN s ON c.id = s.id
    WHERE s.first_seen < c.first_seen OR s.last_seen > c.last_seen
    ORDER BY c.id FOR NO KEY UPDATE OF c
)
UPDATE {CAMPAIGN} c SET first_seen = LEAST(c.first_seen, s.first_seen),
    last_seen = GREATEST(c.last_seen, s.last_seen)
FROM s WHERE c.id = s.id AND c.id IN (SELECT id FROM locked)
"""  # noqa: S608

# Rows are ordered before each upsert so concurrent imports lock shared rows in the same order
# (no deadlocks between the directory task and webhook posts touching the same day's stats).
INGEST_SQL = f"""
WITH new AS MATERIALIZED (
    SELECT id, time_logged, type, outcome, rcpt, rcpt_domain, source_ip, vmta, dsn_status, dsn_diag,
        bounce_cat, feedback_type, campaign_key, campaign_id, tenant_id, ip_id
    FROM {EVENT} WHERE id BETWEEN %(lo)s AND %(hi)s
        -- The batch's time range: only its day partitions are planned and read, not the whole table's.
        AND time_logged BETWEEN %(first)s AND %(last)s /* only ours */
),
seen AS (
    SELECT campaign_id, min(time_logged) AS first_seen, max(time_logged) AS last_seen
    FROM new WHERE campaign_id IS NOT NULL GROUP BY 1
),
grouped AS (
    SELECT (time_logged AT TIME ZONE 'UTC')::date AS day, left(source_ip, 45) AS source_ip,
        left(vmta, 100) AS vmta, left(rcpt_domain, 255) AS rcpt_domain, campaign_key, tenant_id, outcome,
        coalesce(nullif(lower(bounce_cat), ''), 'other') AS cat, count(*) AS n,
        max(campaign_id) AS campaign_id, max(ip_id) AS ip_id
    FROM new GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
),
-- Per key and category: the category's bounce (or deferral) count and the outcome counts. A category can
-- come from both hard and soft bounces, so it is summed here; each (key, kind, category) is then one row,
-- and the key's JSON objects below have no repeated name. One aggregation over another, never a join:
-- the CTEs' row estimates are 1, and a join of them was planned as a nested loop (quadratic in a batch's
-- keys: 8 of a 1,000-record batch's 24 ms).
by_cat AS (
    SELECT day, source_ip, vmta, rcpt_domain, campaign_key, tenant_id, outcome = 'transient' AS deferral, cat,
        sum(n) FILTER (WHERE outcome IN ('hard_bounce', 'soft_bounce', 'transient')) AS cat_n,
        sum(n) FILTER (WHERE outcome = 'delivered') AS delivered,
        sum(n) FILTER (WHERE outcome = 'hard_bounce') AS hard_bounces,
        sum(n) FILTER (WHERE outcome = 'soft_bounce') AS soft_bounces,
        sum(n) FILTER (WHERE outcome = 'transient') AS transient,
        sum(n) FILTER (WHERE outcome = 'complaint') AS complaints,
        sum(n) FILTER (WHERE outcome = 'received') AS received,
        sum(n) FILTER (WHERE outcome = 'other') AS other,
        max(campaign_id) AS campaign_id, max(ip_id) AS ip_id
    FROM grouped GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
),
totals AS (
    SELECT day, source_ip, vmta, rcpt_domain, campaign_key, tenant_id, max(campaign_id) AS campaign_id,
        max(ip_id) AS ip_id,
        coalesce(sum(delivered), 0) AS delivered,
        coalesce(sum(hard_bounces), 0) AS hard_bounces,
        coalesce(sum(soft_bounces), 0) AS soft_bounces,
        coalesce(sum(transient), 0) AS transient,
        coalesce(sum(complaints), 0) AS complaints,
        coalesce(sum(received), 0) AS received,
        coalesce(sum(other), 0) AS other,
        coalesce(jsonb_object_agg(cat, cat_n) FILTER (WHERE NOT deferral AND cat_n > 0), '{{}}'::jsonb)
            AS bounce_categories,
        coalesce(jsonb_object_agg(cat, cat_n) FILTER (WHERE deferral), '{{}}'::jsonb) AS transient_categories
    FROM by_cat
    GROUP BY day, source_ip, vmta, rcpt_domain, campaign_key, tenant_id
),
stats AS (
    INSERT INTO {STAT} AS s (
        day, source_ip, vmta, rcpt_domain, campaign_key, tenant_id, campaign_id, ip_id, delivered,
        hard_bounces, soft_bounces, transient, complaints, received, other, bounce_categories,
        transient_categories
    )
    SELECT day, source_ip, vmta, rcpt_domain, campaign_key, tenant_id, campaign_id, ip_id, delivered,
        hard_bounces, soft_bounces, transient, complaints, received, other, bounce_categories,
        transient_categories
    FROM totals
    ORDER BY day, source_ip, vmta, rcpt_domain, campaign_key, tenant_id
    ON CONFLICT ON CONSTRAINT daily_stat_key DO UPDATE SET
        delivered = s.delivered + EXCLUDED.delivered,
        hard_bounces = s.hard_bounces + EXCLUDED.hard_bounces,
        soft_bounces = s.soft_bounces + EXCLUDED.soft_bounces,
        transient = s.transient + EXCLUDED.transient,
        complaints = s.complaints + EXCLUDED.complaints,
        received = s.received + EXCLUDED.received,
        other = s.other + EXCLUDED.other,
        -- Merging is a function call per row: skip it when the batch brought no categories.
        bounce_categories = CASE WHEN EXCLUDED.bounce_categories = '{{}}'::jsonb THEN s.bounce_categories
            ELSE campaigns_jsonb_add(s.bounce_categories, EXCLUDED.bounce_categories) END,
        transient_categories = CASE WHEN EXCLUDED.transient_categories = '{{}}'::jsonb
            THEN s.transient_categories
            ELSE campaigns_jsonb_add(s.transient_categories, EXCLUDED.transient_categories) END,
        campaign_id = coalesce(s.campaign_id, EXCLUDED.campaign_id),
        ip_id = coalesce(s.ip_id, EXCLUDED.ip_id)
    RETURNING 1
),
supp AS (
    INSERT INTO {SUPPRESSION} (tenant_id, email, reason, source_event_id, detail, created_at, created_by)
    SELECT DISTINCT ON (tenant_id, lower(rcpt)) tenant_id, left(lower(rcpt), 320),
        CASE outcome WHEN 'complaint' THEN 'complaint' ELSE 'hard_bounce' END, id,
        left(CASE WHEN outcome = 'complaint'
            THEN concat_ws(' ', 'complaint', nullif(feedback_type, ''))
            ELSE concat_ws(' ', nullif(bounce_cat, ''), nullif(dsn_status, ''), nullif(dsn_diag, ''))
        END, 300),
        now(), %(actor)s
    FROM new
    WHERE tenant_id IS NOT NULL AND rcpt LIKE '%%_@_%%' AND outcome IN ('hard_bounce', 'complaint')
    ORDER BY tenant_id, lower(rcpt), time_logged
    ON CONFLICT ON CONSTRAINT suppression_unique_email DO NOTHING
    RETURNING 1
)
SELECT 'type', type, count(*), NULL::bigint, NULL::timestamptz, NULL::timestamptz FROM new GROUP BY type
UNION ALL SELECT 'feedback', lower(feedback_type), count(*), NULL, NULL, NULL
    FROM new WHERE type = 'f' GROUP BY 2
UNION ALL SELECT 'stats', '', count(*), NULL, NULL, NULL FROM stats
UNION ALL SELECT 'supp', '', count(*), NULL, NULL, NULL FROM supp
UNION ALL SELECT 'seen', '', 0, campaign_id, first_seen, last_seen FROM seen
-- Per sending IP, the time range of the batch's new failures: all the reply rules need to look at.
UNION ALL SELECT 'fail', source_ip, count(*), NULL, min(time_logged), max(time_logged) FROM new
    WHERE outcome IN ({FAILURE_LIST}) AND source_ip <> '' GROUP BY source_ip
"""  # noqa: S608
# When another importer took ids between ours, the range holds its rows too.
INGEST_SCATTERED_SQL = INGEST_SQL.replace("/* only ours */", "AND id = ANY(%(ids)s)")

# A batch's refused records, kept verbatim (importer._Writer._keep_rejections): one binary COPY for the
# batch instead of an INSERT a record, so a record's bytes go as they are, not quoted as text.
REJECTION_COLUMNS = (
    ("file_id", "int8"),
    ("server_id", "int8"),
    ("kind", "text"),
    ("line", "int8"),
    ("reason", "text"),
    ("raw", "text"),
    ("data", "bytea"),
    ("data_size", "int8"),
    ("data_format", "text"),
    ("header", "jsonb"),
    ("created_at", "timestamptz"),
    ("resolution", "text"),
    ("resolved_by", "text"),
)
COPY_REJECTIONS = "COPY {} ({}) FROM STDIN (FORMAT binary)".format(
    REJECTION, ", ".join(name for name, _ in REJECTION_COLUMNS)
)

FILE_UPDATE = f"""
UPDATE {FILE} SET
    "offset" = %(offset)s, lines = %(lines)s, header = %(header)s::jsonb, status = %(status)s,
    records_read = records_read + %(read)s, imported = imported + %(imported)s,
    duplicates = duplicates + %(duplicates)s, rejected = rejected + %(rejected)s, held = held + %(held)s,
    by_type = campaigns_jsonb_add(by_type, %(by_type)s::jsonb), updated_at = now()
WHERE id = %(id)s AND (%(check)s IS NULL OR "offset" = %(check)s)
"""  # noqa: S608

COUNTER_UPSERT = f"""
INSERT INTO {COUNTER} (name, value) SELECT * FROM unnest(%s::text[], %s::bigint[]) ORDER BY 1
ON CONFLICT (name) DO UPDATE SET value = {COUNTER}.value + EXCLUDED.value
"""  # noqa: S608
