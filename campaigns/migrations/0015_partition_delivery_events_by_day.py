"""Delivery events become a table partitioned by UTC day (campaigns.accounting.partitions).

The existing table is renamed aside, the partitioned one is created with the same columns, a partition
for every day the old rows cover and the next few days, and a DEFAULT partition; the rows are copied
over, the indexes built once the rows are in, and the old table dropped. Event ids keep growing from
where they were (a sequence of the new table's own, set past the old one).

The primary key must contain the partition key, so in the database it is (id, time_logged); Django
still sees ``id`` as the primary key, which stays unique because every id comes from the one sequence.
A foreign key needs a unique key of its own on the referenced columns, so the suppression's link to its
event is no longer a database constraint (Django still applies on_delete; retention unlinks).

On a large table the copy takes about as long as importing the rows once (all in one transaction);
README-DEPLOY "Beyond one machine" says how to plan it.
"""

import django.db.models.deletion
from django.db import migrations, models

EVENT = "campaigns_deliveryevent"
OLD = "campaigns_deliveryevent_unpartitioned"
DAYS_AHEAD = 3  # campaigns.accounting.partitions.DAYS_AHEAD at the time of writing

INDEXES = (
    f"ALTER TABLE {EVENT} ADD CONSTRAINT campaigns_deliveryevent_pkey PRIMARY KEY (id, time_logged)",
    f"ALTER TABLE {EVENT} ADD CONSTRAINT event_time_fingerprint_unique UNIQUE (time_logged, fingerprint)",
    f"CREATE INDEX event_tenant_rcpt ON {EVENT} (tenant_id, rcpt)",
    f"CREATE INDEX event_ip_time ON {EVENT} (source_ip, time_logged)",
    f"CREATE INDEX event_domain_time ON {EVENT} (rcpt_domain, time_logged)",
    f"CREATE INDEX event_campaign_time ON {EVENT} (campaign_id, time_logged)",
)


def partition(apps, schema_editor):
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [EVENT])
        old_sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {EVENT}")  # noqa: S608
        max_id = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value FROM {old_sequence}")  # noqa: S608
        last_value = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT DISTINCT (time_logged AT TIME ZONE 'UTC')::date FROM {EVENT}"  # noqa: S608
            " UNION SELECT (now() AT TIME ZONE 'UTC')::date + n FROM generate_series(0, %s) n ORDER BY 1",
            [DAYS_AHEAD],
        )
        days = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
            [EVENT],
        )
        constraints = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname <> ALL(%s)",
            [EVENT, constraints],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT attidentity <> '' FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'id'",
            [EVENT],
        )
        identity = cursor.fetchone()[0]

    run(f"ALTER TABLE {EVENT} RENAME TO {OLD}")
    for name in constraints:
        run(f"ALTER TABLE {OLD} RENAME CONSTRAINT {name} TO {name}_unpartitioned")
    for name in indexes:
        run(f"ALTER INDEX {name} RENAME TO {name}_unpartitioned")
    if identity:
        run(f"ALTER TABLE {OLD} ALTER COLUMN id DROP IDENTITY")  # its sequence goes with it
    else:  # a serial column (or an earlier run of this conversion): free the sequence's name
        run(f"ALTER TABLE {OLD} ALTER COLUMN id DROP DEFAULT")
        run(f"DROP SEQUENCE {old_sequence}")

    run(f"CREATE TABLE {EVENT} (LIKE {OLD} INCLUDING DEFAULTS) PARTITION BY RANGE (time_logged)")
    run(f"CREATE SEQUENCE {EVENT}_id_seq OWNED BY {EVENT}.id")
    run(f"SELECT setval('{EVENT}_id_seq', %s)", [max(max_id, last_value, 1)])
    run(f"ALTER TABLE {EVENT} ALTER COLUMN id SET DEFAULT nextval('{EVENT}_id_seq')")
    run(f"CREATE TABLE {EVENT}_default PARTITION OF {EVENT} DEFAULT")
    for day in days:
        run(
            f"CREATE TABLE {EVENT}_p{day:%Y%m%d} PARTITION OF {EVENT}"
            f" FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') TO ('{day.isoformat()} 00:00:00+00'::timestamptz"
            " + interval '1 day')"
        )
    run(f"INSERT INTO {EVENT} SELECT * FROM {OLD}")  # noqa: S608
    for statement in INDEXES:
        run(statement)
    run(f"DROP TABLE {OLD}")
    run(f"ANALYZE {EVENT}")


def unpartition(apps, schema_editor):
    """Back to one plain table (with every row), for going back a migration."""
    run = schema_editor.execute
    run(f"ALTER TABLE {EVENT} RENAME TO {OLD}")
    for name in ("campaigns_deliveryevent_pkey", "event_time_fingerprint_unique"):
        run(f"ALTER TABLE {OLD} RENAME CONSTRAINT {name} TO {name}_partitioned")
    for name in ("event_tenant_rcpt", "event_ip_time", "event_domain_time", "event_campaign_time"):
        run(f"ALTER INDEX {name} RENAME TO {name}_partitioned")
    run(f"CREATE TABLE {EVENT} (LIKE {OLD} INCLUDING DEFAULTS)")
    run(f"INSERT INTO {EVENT} SELECT * FROM {OLD}")  # noqa: S608
    run(f"ALTER SEQUENCE {EVENT}_id_seq OWNED BY {EVENT}.id")
    run(f"DROP TABLE {OLD}")
    run(f"ALTER TABLE {EVENT} ADD CONSTRAINT campaigns_deliveryevent_pkey PRIMARY KEY (id)")
    run(f"ALTER TABLE {EVENT} ADD CONSTRAINT event_time_fingerprint_unique UNIQUE (time_logged, fingerprint)")
    run(f"CREATE INDEX event_tenant_rcpt ON {EVENT} (tenant_id, rcpt)")
    run(
        f"CREATE INDEX event_failure_ip_time ON {EVENT} (source_ip, time_logged)"
        " WHERE outcome IN ('transient', 'soft_bounce', 'hard_bounce')"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0014_mailwizz_moves_to_mailwizz"),
    ]

    operations = [
        migrations.AlterField(
            model_name="suppression",
            name="source_event",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="campaigns.deliveryevent",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(partition, unpartition)],
            state_operations=[
                migrations.RemoveIndex(model_name="deliveryevent", name="event_failure_ip_time"),
                migrations.AddIndex(
                    model_name="deliveryevent",
                    index=models.Index(fields=["source_ip", "time_logged"], name="event_ip_time"),
                ),
                migrations.AddIndex(
                    model_name="deliveryevent",
                    index=models.Index(fields=["rcpt_domain", "time_logged"], name="event_domain_time"),
                ),
                migrations.AddIndex(
                    model_name="deliveryevent",
                    index=models.Index(fields=["campaign", "time_logged"], name="event_campaign_time"),
                ),
            ],
        ),
    ]
