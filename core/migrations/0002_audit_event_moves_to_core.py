# AuditEvent moves here from tenants with its table and rows: only Django's state changes (the table keeps its
# name through Meta.db_table, the indexes keep theirs); content types follow the model.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migrations_moves import rename_content_types


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("tenants", "0004_api_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("actor_label", models.CharField(max_length=150)),
                        ("action", models.CharField(db_index=True, max_length=80)),
                        ("object_type", models.CharField(blank=True, max_length=80)),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        ("object_repr", models.CharField(blank=True, max_length=200)),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        ("reason", models.TextField(blank=True)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("via", models.CharField(blank=True, db_default="", default="", max_length=150)),
                        (
                            "actor",
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
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tenants_auditevent",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["object_type", "object_id", "-created_at"],
                                name="tenants_aud_object__526110_idx",
                            ),
                            models.Index(
                                fields=["tenant", "-created_at"], name="tenants_aud_tenant__e4e645_idx"
                            ),
                        ],
                    },
                ),
            ],
        ),
        rename_content_types("tenants", "core", ["AuditEvent"]),
    ]
