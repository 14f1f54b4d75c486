"""The daily tenant rollup trigger stands aside while the accounting importer maintains the rollup.

The importer already has each batch's counts per (day, tenant) in hand, so it upserts the rollup in
the same statement as the daily stats; the trigger would otherwise recompute the same deltas from
the transition tables (3 ms of a 1,000-record webhook batch). The importer sets
``campaigns.rollup_by_importer`` to on for its statement only (SET LOCAL, then back to off); every
other write path (admin, seed data, deletes) still goes through the trigger.
"""

from importlib import import_module

from django.db import migrations

_PREVIOUS = import_module("campaigns.migrations.0010_rollup_sums_categories_set_based").ROLLUP
_SKIP = """BEGIN
    IF current_setting('campaigns.rollup_by_importer', true) = 'on' THEN
        RETURN NULL;
    END IF;
"""
ROLLUP = _PREVIOUS.replace("BEGIN\n", _SKIP, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0010_rollup_sums_categories_set_based"),
    ]

    operations = [migrations.RunSQL(ROLLUP, reverse_sql=_PREVIOUS)]
