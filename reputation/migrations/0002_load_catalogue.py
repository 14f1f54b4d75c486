"""Load the shipped blocklist catalogue (reputation/dnsbl/catalogue.py) into the Blocklist table.

Existing rows (same key) are left as they are, so re-running never undoes an operator's edits.
"""

from django.db import migrations


def load(apps, schema_editor):
    from reputation.dnsbl.catalogue import CATALOGUE, blocklist_to_dict

    Blocklist = apps.get_model("reputation", "Blocklist")
    for entry in CATALOGUE:
        data = blocklist_to_dict(entry)
        key = data.pop("key")
        Blocklist.objects.get_or_create(key=key, defaults={**data, "enabled": True})


class Migration(migrations.Migration):
    dependencies = [("reputation", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
