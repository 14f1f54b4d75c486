# ScheduledJobState moves here from tenants with its table and rows: only Django's state changes.

from django.db import migrations, models

from core.migrations_moves import rename_content_types


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenants", "0002_scheduled_job_state"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ScheduledJobState",
                    fields=[
                        ("name", models.CharField(max_length=200, primary_key=True, serialize=False)),
                        ("last_started_at", models.DateTimeField(blank=True, null=True)),
                        ("last_finished_at", models.DateTimeField(blank=True, null=True)),
                        ("last_success_at", models.DateTimeField(blank=True, null=True)),
                        ("last_failure_at", models.DateTimeField(blank=True, null=True)),
                        ("last_ok", models.BooleanField(blank=True, null=True)),
                        ("last_duration_ms", models.PositiveBigIntegerField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True, default="")),
                        ("last_counts", models.JSONField(blank=True, null=True)),
                        ("runs", models.PositiveBigIntegerField(default=0)),
                        ("failures", models.PositiveBigIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "tenants_scheduledjobstate",
                        "ordering": ["name"],
                    },
                ),
            ],
        ),
        rename_content_types("tenants", "core", ["ScheduledJobState"]),
    ]
