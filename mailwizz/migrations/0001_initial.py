# MailWizzConfig, MailWizzCampaign and MailWizzOutbox move here from campaigns with their tables and rows:
# only Django's state changes (the tables keep their names through Meta.db_table); content types and audit
# references follow.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import core.crypto
from core.migrations_moves import rename_audit_labels, rename_content_types

MODELS = ["mailwizzconfig", "mailwizzcampaign", "mailwizzoutbox"]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0010_validation_moves_to_hygiene"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="MailWizzConfig",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "base_url",
                            models.URLField(
                                help_text="The API root, e.g. https://mw.example.com/api (or .../api/index.php)",
                                max_length=500,
                            ),
                        ),
                        (
                            "mode",
                            models.CharField(
                                choices=[
                                    ("mw2", "MailWizz 2.x (X-API-KEY header)"),
                                    ("mw1", "MailWizz 1.x (signed requests)"),
                                ],
                                default="mw2",
                                max_length=3,
                            ),
                        ),
                        ("api_key", core.crypto.EncryptedTextField(blank=True)),
                        ("private_key", core.crypto.EncryptedTextField(blank=True)),
                        (
                            "header_prefix",
                            models.CharField(
                                blank=True,
                                default="X-Mw-",
                                help_text="MailWizz's email.custom.header.prefix: X-Mw- (1.x), X- (2.x) or random",
                                max_length=40,
                            ),
                        ),
                        (
                            "campaign_key_prefix",
                            models.CharField(
                                blank=True,
                                default="mailwizz-",
                                help_text="Stripped from an accounting campaign key to get the MailWizz campaign uid",
                                max_length=60,
                            ),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        (
                            "last_sync_at",
                            models.DateTimeField(blank=True, help_text="Last sync attempt", null=True),
                        ),
                        ("last_sync_ok_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("campaigns_synced", models.PositiveIntegerField(default=0)),
                        ("feedback_watermark", models.BigIntegerField(default=0)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "tenant",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="mailwizz_config",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_mailwizzconfig",
                        "ordering": ["tenant__name"],
                    },
                ),
                migrations.CreateModel(
                    name="MailWizzCampaign",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("uid", models.CharField(max_length=64)),
                        ("name", models.CharField(blank=True, max_length=255)),
                        ("status", models.CharField(blank=True, max_length=40)),
                        ("list_uid", models.CharField(blank=True, max_length=64)),
                        ("list_name", models.CharField(blank=True, max_length=255)),
                        ("send_at", models.DateTimeField(blank=True, null=True)),
                        ("synced_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="mailwizz_campaigns",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_mailwizzcampaign",
                        "ordering": ["-send_at", "name", "pk"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("tenant", "uid"), name="mailwizz_campaign_uid_unique"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="MailWizzOutbox",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[("hard_bounce", "Hard bounce"), ("complaint", "Complaint")],
                                max_length=12,
                            ),
                        ),
                        ("email", models.CharField(help_text="Lower-cased", max_length=320)),
                        ("campaign_uid", models.CharField(blank=True, max_length=64)),
                        ("message", models.CharField(blank=True, max_length=250)),
                        ("event_id", models.BigIntegerField(blank=True, null=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("next_retry_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="mailwizz_outbox",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_mailwizzoutbox",
                        "ordering": ["-created_at", "-pk"],
                        "indexes": [
                            models.Index(fields=["status", "next_retry_at"], name="mailwizz_outbox_due"),
                            models.Index(fields=["tenant", "status"], name="mailwizz_outbox_tenant_status"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("tenant", "kind", "email", "campaign_uid"),
                                name="mailwizz_outbox_once",
                            )
                        ],
                    },
                ),
            ],
        ),
        rename_content_types("campaigns", "mailwizz", MODELS),
        rename_audit_labels("campaigns", "mailwizz", MODELS),
    ]
