"""Domain ownership: a new domain is pending until its TXT token is published (or an operator vouches for it).

Domains that exist already keep working: they become "existing" (verified), each with its own random token.
The name is unique per tenant, and unique among verified domains only, so a pending claim blocks nobody.
"""

import secrets

from django.db import migrations, models

import domains.models

CHOICES = [
    ("pending", "Pending: publish the TXT record"),
    ("dns", "Verified by DNS"),
    ("operator", "Verified by an operator"),
    ("existing", "Added before ownership checks"),
]


def give_each_domain_its_token(apps, schema_editor):
    SendingDomain = apps.get_model("domains", "SendingDomain")
    for domain in SendingDomain.objects.only("pk").iterator():
        SendingDomain.objects.filter(pk=domain.pk).update(verification_token=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0001_initial"),
        ("tenants", "0003_scheduled_job_state_moves_to_core"),
    ]

    operations = [
        migrations.AddField(
            model_name="sendingdomain",
            name="ownership",
            field=models.CharField(choices=CHOICES, default="existing", max_length=10),
        ),
        migrations.AlterField(
            model_name="sendingdomain",
            name="ownership",
            field=models.CharField(choices=CHOICES, default="pending", max_length=10),
        ),
        migrations.AddField(
            model_name="sendingdomain",
            name="verification_token",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(give_each_domain_its_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="sendingdomain",
            name="verification_token",
            field=models.CharField(
                default=domains.models.new_verification_token, editable=False, max_length=64
            ),
        ),
        migrations.AddField(
            model_name="sendingdomain",
            name="verified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="sendingdomain",
            name="name",
            field=models.CharField(
                db_index=True, help_text="IDNA ASCII form, lowercase (xn--... for IDNs)", max_length=253
            ),
        ),
        migrations.AddConstraint(
            model_name="sendingdomain",
            constraint=models.UniqueConstraint(fields=("tenant", "name"), name="domain_once_per_tenant"),
        ),
        migrations.AddConstraint(
            model_name="sendingdomain",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ownership", "pending"), _negated=True),
                fields=("name",),
                name="domain_one_verified_owner",
            ),
        ),
    ]
