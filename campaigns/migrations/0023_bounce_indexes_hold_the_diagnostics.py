"""The bounce explorer at fleet scale (issue 20): its three partial bounce indexes (latest bounces of a
period, of a category, of a tenant) also hold the normalised diagnostic text (models.diag_text) and the
columns its diagnostics table reads, so the latest few thousand bounces are an index-only range scan with
no regular expression per row. Created on the partitioned parent: Postgres builds each one on every day
partition; the new indexes come first, so the explorer is never without one.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0022_stat_rollups_per_domain_and_campaign"),
        ("ips", "0003_pmta_delivery"),
        ("tenants", "0005_audit_event_moves_to_core"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(
                models.F("time_logged"),
                models.Func(
                    models.F("dsn_diag"),
                    models.Value(
                        "[^\\s<>()\\[\\];:,]+@[^\\s<>()\\[\\];:,]+|\\d{1,3}(\\.\\d{1,3}){3}|\\m[0-9A-Fa-f]{8,}\\M|\\d{4,}"
                    ),
                    models.Value("…"),
                    models.Value("g"),
                    function="REGEXP_REPLACE",
                    output_field=models.TextField(),
                ),
                condition=models.Q(("outcome__in", ("hard_bounce", "soft_bounce"))),
                include=("dsn_diag", "outcome", "bounce_cat", "rcpt", "rcpt_domain"),
                name="event_bounce_time_diag",
            ),
        ),
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(
                models.F("bounce_cat"),
                models.F("time_logged"),
                models.Func(
                    models.F("dsn_diag"),
                    models.Value(
                        "[^\\s<>()\\[\\];:,]+@[^\\s<>()\\[\\];:,]+|\\d{1,3}(\\.\\d{1,3}){3}|\\m[0-9A-Fa-f]{8,}\\M|\\d{4,}"
                    ),
                    models.Value("…"),
                    models.Value("g"),
                    function="REGEXP_REPLACE",
                    output_field=models.TextField(),
                ),
                condition=models.Q(("outcome__in", ("hard_bounce", "soft_bounce"))),
                include=("dsn_diag", "outcome", "rcpt", "rcpt_domain"),
                name="event_bounce_cat_diag",
            ),
        ),
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(
                models.F("tenant"),
                models.F("time_logged"),
                models.Func(
                    models.F("dsn_diag"),
                    models.Value(
                        "[^\\s<>()\\[\\];:,]+@[^\\s<>()\\[\\];:,]+|\\d{1,3}(\\.\\d{1,3}){3}|\\m[0-9A-Fa-f]{8,}\\M|\\d{4,}"
                    ),
                    models.Value("…"),
                    models.Value("g"),
                    function="REGEXP_REPLACE",
                    output_field=models.TextField(),
                ),
                condition=models.Q(("outcome__in", ("hard_bounce", "soft_bounce"))),
                include=("dsn_diag", "outcome", "bounce_cat", "rcpt", "rcpt_domain"),
                name="event_bounce_tenant_diag",
            ),
        ),
        migrations.RemoveIndex(
            model_name="deliveryevent",
            name="event_bounce_time",
        ),
        migrations.RemoveIndex(
            model_name="deliveryevent",
            name="event_bounce_cat",
        ),
        migrations.RemoveIndex(
            model_name="deliveryevent",
            name="event_bounce_tenant",
        ),
    ]
