"""A (day DESC, source_ip) index of DailyStat for the daily stats by IP (API): a page is grouped along it
newest day first (no sort of a whole day's rows) and the count of (day, IP) pairs is an index-only scan
of this narrow index instead of the wide daily_stat_key.

Built CONCURRENTLY: on a fleet's table this takes a while and must not stop the import meanwhile.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("campaigns", "0023_bounce_indexes_hold_the_diagnostics"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="dailystat",
            index=models.Index(fields=["-day", "source_ip"], name="daily_stat_day_ip"),
        ),
    ]
