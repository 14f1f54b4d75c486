"""Message search by address reads an index led by the recipient: operators see every tenant's events,
and an index led by the tenant made their search walk it once per tenant and day partition."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0015_partition_delivery_events_by_day"),
    ]

    operations = [
        # The new index first: the search is never without one.
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(fields=["rcpt", "time_logged"], name="event_rcpt_time"),
        ),
        migrations.RemoveIndex(model_name="deliveryevent", name="event_tenant_rcpt"),
    ]
