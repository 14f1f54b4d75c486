# ValidationJob and ValidationChunk now belong to the hygiene app (hygiene.0001 took over their state);
# the tables and rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0009_rollup_sums_categories_set_based"),
        ("hygiene", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ValidationChunk"),
                migrations.DeleteModel(name="ValidationJob"),
            ],
        ),
    ]
