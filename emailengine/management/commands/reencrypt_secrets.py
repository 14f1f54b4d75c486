"""Re-encrypt every secret at rest under the first FIELD_ENCRYPTION_KEY (key rotation).

Rotation: put the new key first and keep the old one (``FIELD_ENCRYPTION_KEY=new,old``), restart every
process, run this command, then drop the old key and restart again (README-DEPLOY.md). Every field that is a
``core.crypto.EncryptedTextField`` in any installed model is covered, so a new secret field needs no change.

One transaction: a value that no configured key opens stops the command with nothing changed, naming the row.
Lives in ``emailengine`` (the top floor) because it reads every app's models and writes an audit event.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.audit import audit_record
from core.crypto import EncryptedTextField, rotate, under_first_key

BATCH = 500
ACTOR = "system: reencrypt_secrets"


def encrypted_fields() -> list[tuple[Any, EncryptedTextField]]:
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def _reencrypt_field(model: Any, field: EncryptedTextField, *, dry_run: bool) -> dict[str, Any]:
    quote = connection.ops.quote_name
    column_name = field.column or field.name  # always set once the model is loaded
    table, column, pk = quote(model._meta.db_table), quote(column_name), quote(model._meta.pk.column)
    item = {"model": model._meta.label, "field": field.name, "values": 0, "rotated": 0, "current": 0}
    with connection.cursor() as cursor:
        # Raw SQL: the model would hand us plain text, and it is the stored ciphertext that is rewritten.
        cursor.execute(
            f"SELECT {pk}, {column} FROM {table} "  # noqa: S608 - names quoted, taken from the model
            f"WHERE {column} IS NOT NULL AND {column} <> '' ORDER BY {pk} FOR UPDATE"
        )
        rows = cursor.fetchall()
    updates: list[tuple[str, Any]] = []
    for row_pk, token in rows:
        item["values"] += 1
        if under_first_key(token):
            item["current"] += 1
            continue
        try:
            updates.append((rotate(token), row_pk))
        except ValueError:
            raise CommandError(
                f"{model._meta.label}.{field.name} of row {row_pk}: no FIELD_ENCRYPTION_KEY opens it; "
                "nothing was changed"
            ) from None
        item["rotated"] += 1
    if updates and not dry_run:
        with connection.cursor() as cursor:
            for start in range(0, len(updates), BATCH):
                cursor.executemany(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608 - names quoted
                    updates[start : start + BATCH],
                )
    return item


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first FIELD_ENCRYPTION_KEY (key rotation)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args: Any, dry_run: bool, as_json: bool, **options: Any) -> None:
        with transaction.atomic():
            fields = [_reencrypt_field(m, f, dry_run=dry_run) for m, f in encrypted_fields()]
            summary = {
                "dry_run": dry_run,
                "fields": fields,
                "rotated": sum(f["rotated"] for f in fields),
                "current": sum(f["current"] for f in fields),
            }
            if not dry_run:
                audit_record(action="secrets.reencrypt", by=ACTOR, after=summary)
        if as_json:
            self.stdout.write(json.dumps(summary, sort_keys=True))
            return
        for item in fields:
            done = "to re-encrypt" if dry_run else "re-encrypted"
            self.stdout.write(
                f"{item['model']}.{item['field']}: {item['values']} value(s), {item['rotated']} {done}, "
                f"{item['current']} already under the first key"
            )
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(self.style.SUCCESS(f"{summary['rotated']} secret(s) {verb} under the first key."))
