"""A partial (source_ip, time_logged) index of failure events for the reply rules' per-batch check.

Built CONCURRENTLY: on a fleet's table this takes a while and must not stop the import meanwhile.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("campaigns", "0010_validation_moves_to_hygiene"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="deliveryevent",
            index=models.Index(
                condition=models.Q(("outcome__in", ("transient", "soft_bounce", "hard_bounce"))),
                fields=["source_ip", "time_logged"],
                name="event_failure_ip_time",
            ),
        ),
    ]
