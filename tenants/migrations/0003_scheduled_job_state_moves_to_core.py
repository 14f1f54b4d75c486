# ScheduledJobState now belongs to core (core.0001 took over its state); the table and rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_scheduled_job_state"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ScheduledJobState")],
        ),
    ]
