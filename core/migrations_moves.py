"""Helpers for migrations that move a model from one app to another with its table and rows.

The table is not touched (the model keeps its table name through `Meta.db_table`); only Django's state moves.
The content types are renamed so permissions, admin log entries and generic references follow the model
instead of being orphaned beside a fresh content type.
"""

from collections.abc import Callable, Iterable

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

type _Move = Callable[[StateApps, BaseDatabaseSchemaEditor, str, str, list[str]], None]


def rename_content_types(old_app: str, new_app: str, models: Iterable[str]) -> migrations.RunPython:
    return _both_ways(_move, old_app, new_app, models)


def rename_audit_labels(old_app: str, new_app: str, models: Iterable[str]) -> migrations.RunPython:
    """Audit events name their object as "app.model"; they follow the model to its new app."""
    return _both_ways(_relabel, old_app, new_app, models)


def _both_ways(move: _Move, old_app: str, new_app: str, models: Iterable[str]) -> migrations.RunPython:
    names = [m.lower() for m in models]

    def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        move(apps, schema_editor, old_app, new_app, names)

    def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        move(apps, schema_editor, new_app, old_app, names)

    return migrations.RunPython(forward, backward, elidable=True)


def _move(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, src: str, dst: str, names: list[str]
) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for name in names:
        # A fresh content type may already exist under the new label (created by an earlier migrate run);
        # the old one carries the permissions and log entries, so it wins.
        ContentType.objects.using(db).filter(app_label=dst, model=name).delete()
        ContentType.objects.using(db).filter(app_label=src, model=name).update(app_label=dst)


def _relabel(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, src: str, dst: str, names: list[str]
) -> None:
    # AuditEvent itself moved from tenants to core (core.0002); a migration may run on either side of it.
    try:
        AuditEvent = apps.get_model("core", "AuditEvent")
    except LookupError:
        AuditEvent = apps.get_model("tenants", "AuditEvent")
    db = schema_editor.connection.alias
    for name in names:
        AuditEvent.objects.using(db).filter(object_type=f"{src}.{name}").update(object_type=f"{dst}.{name}")
