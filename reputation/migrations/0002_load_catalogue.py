"""Load the shipped blocklist catalogue (reputation/dnsbl/catalogue.py) into the Blocklist table.

Existing rows (same key) are left as they are, so re-running never undoes an operator's edits.
"""

from django.db import migrations


def load(apps, schema_editor):
    from reputation.dnsbl.catalogue import CATALOGUE, blocklist_to_dict

    Blocklist = apps.get_model("reputation", "Blocklist")
    # The catalogue grows fields later migrations add: load only those this migration's model has.
    known = {f.name for f in Blocklist._meta.get_fields()}
    for entry in CATALOGUE:
        data = {name: value for name, value in blocklist_to_dict(entry).items() if name in known}
        key = data.pop("key")
        Blocklist.objects.get_or_create(key=key, defaults={**data, "enabled": True})


class Migration(migrations.Migration):
    dependencies = [("reputation", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
