"""The envelope id of each event, so a remote bounce (rb/rs) is credited to its original message's tenant.

The column has a constant default, so adding it rewrites no partition. Its index covers only rows with an
envelope id (few senders set one). Postgres cannot build an index on a partitioned table CONCURRENTLY:
the index is created on the parent, which builds it on each partition in turn (each briefly holds off
writes while its own index is built; on a fleet's table, plan it like the other index changes in
README-DEPLOY "Beyond one machine").
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0017_bounce_explorer_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="deliveryevent",
            name="env_id",
            field=models.TextField(blank=True, default="", db_default=""),
        ),
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(condition=~models.Q(env_id=""), fields=["env_id"], name="event_env_id"),
        ),
    ]
