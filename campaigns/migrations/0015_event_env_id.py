"""The envelope id of each event, so a remote bounce (rb/rs) is credited to its original message's tenant.

The column has a constant default, so adding it rewrites nothing; its partial index (only rows with an
envelope id) is built CONCURRENTLY so a fleet's imports go on meanwhile.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("campaigns", "0014_mailwizz_moves_to_mailwizz"),
    ]

    operations = [
        migrations.AddField(
            model_name="deliveryevent",
            name="env_id",
            field=models.TextField(blank=True, default="", db_default=""),
        ),
        AddIndexConcurrently(
            model_name="deliveryevent",
            index=models.Index(condition=~models.Q(env_id=""), fields=["env_id"], name="event_env_id"),
        ),
    ]
