# MailWizzConfig, MailWizzCampaign and MailWizzOutbox now belong to the mailwizz app (mailwizz.0001 took over
# their state); the tables and rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0013_tenant_hold"),
        ("mailwizz", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="MailWizzConfig"),
                migrations.DeleteModel(name="MailWizzCampaign"),
                migrations.DeleteModel(name="MailWizzOutbox"),
            ],
        ),
    ]
