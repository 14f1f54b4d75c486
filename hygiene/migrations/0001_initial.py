# ValidationJob and ValidationChunk move here from campaigns with their tables and rows: only Django's state
# changes (the tables keep their names through Meta.db_table); content types and audit references follow.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migrations_moves import rename_audit_labels, rename_content_types

MODELS = ["validationjob", "validationchunk"]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0009_rollup_sums_categories_set_based"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ValidationJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("filename", models.CharField(blank=True, max_length=255)),
                        (
                            "source",
                            models.CharField(
                                choices=[("file", "File upload"), ("paste", "Pasted addresses")],
                                default="file",
                                max_length=5,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("new", "Waiting"),
                                    ("running", "Running"),
                                    ("done", "Done"),
                                    ("failed", "Failed"),
                                ],
                                db_index=True,
                                default="new",
                                max_length=7,
                            ),
                        ),
                        (
                            "total",
                            models.PositiveIntegerField(default=0, help_text="Data rows in the upload"),
                        ),
                        ("done", models.PositiveIntegerField(default=0, help_text="Rows with a verdict")),
                        ("counts", models.JSONField(blank=True, default=dict)),
                        ("error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "updated_at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        (
                            "email_column",
                            models.CharField(
                                blank=True, help_text="Header name or 'column N'", max_length=200
                            ),
                        ),
                        ("email_index", models.PositiveSmallIntegerField(default=0)),
                        ("has_header", models.BooleanField(default=False)),
                        ("header", models.JSONField(blank=True, default=list)),
                        ("delimiter", models.CharField(default=",", max_length=1)),
                        (
                            "width",
                            models.PositiveSmallIntegerField(
                                default=1, help_text="Columns in the widest row"
                            ),
                        ),
                        (
                            "source_text",
                            models.TextField(blank=True, help_text="The upload, decoded (UTF-8)"),
                        ),
                        ("source_bytes", models.PositiveIntegerField(default=0)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("run_token", models.CharField(blank=True, max_length=32)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="validation_jobs",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_validationjob",
                        "ordering": ["-created_at", "-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="ValidationChunk",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("index", models.PositiveIntegerField()),
                        ("first_row", models.PositiveIntegerField()),
                        ("results", models.JSONField(default=list)),
                        (
                            "job",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="chunks",
                                to="hygiene.validationjob",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_validationchunk",
                        "ordering": ["job", "index"],
                    },
                ),
                migrations.AddIndex(
                    model_name="validationjob",
                    index=models.Index(fields=["tenant", "-created_at"], name="validation_job_tenant"),
                ),
                migrations.AddConstraint(
                    model_name="validationchunk",
                    constraint=models.UniqueConstraint(
                        fields=("job", "index"), name="validation_chunk_unique"
                    ),
                ),
            ],
        ),
        rename_content_types("campaigns", "hygiene", MODELS),
        rename_audit_labels("campaigns", "hygiene", MODELS),
    ]
