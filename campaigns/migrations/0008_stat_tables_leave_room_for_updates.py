"""Daily stat rows are updated by every import batch that touches them: leave room on each page.

With full pages every update writes a new row version elsewhere and a new entry in all five of
DailyStat's indexes. With 30% free, Postgres keeps the new version on the same page (a HOT update) and
touches no index, which shortens how long concurrent webhook posts hold the row locks they share.
Pages written before this keep their layout until rewritten (VACUUM FULL or pg_repack).
"""

from django.db import migrations

TABLES = ("campaigns_dailystat", "campaigns_dailytenantstat", "campaigns_campaign")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0007_event_dedup_by_time_and_uuid"),
    ]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET (fillfactor = 70)" for table in TABLES],
            reverse_sql=[f"ALTER TABLE {table} RESET (fillfactor)" for table in TABLES],
        )
    ]
