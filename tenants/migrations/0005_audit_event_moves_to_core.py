# AuditEvent now belongs to core (core.0002 took over its state); the table and rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_api_tokens"),
        ("core", "0002_audit_event_moves_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
