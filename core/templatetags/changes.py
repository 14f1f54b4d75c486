"""``{% load changes %}``: the one way a recorded change is shown to people.

Audit events, the IP and domain timelines and scheduled-job results store JSON dicts; printed raw they read
as Python dumps. ``{% change_diff before after %}`` lists each field that changed as "field: before -> after"
(a field only one side names shows that side), ``{% change_values data %}`` lists "field: value" (job counts).
Nested dicts flatten to dotted names ("limits.daily"), so a change deep inside one reads the same way.
"""

from dataclasses import dataclass
from typing import Any

from django import template

register = template.Library()

MISSING = object()


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: str | None  # None: nothing recorded on that side (a creation, or a plain value)
    after: str | None


def format_value(value: Any) -> str:
    """One value as a person reads it: no Python reprs (None, True, [...], {...})."""
    if value is None:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value == "":
        return "(empty)"
    if isinstance(value, list | tuple | set):
        return ", ".join(format_value(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{_label(k)}: {format_value(v)}" for k, v in value.items()) if value else "(none)"
    return str(value)


def _label(key: Any) -> str:
    return str(key).replace("_", " ")


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        return {prefix or "value": data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{_label(key)}" if prefix else _label(key)
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def change_rows(before: Any, after: Any) -> list[ChangeRow]:
    """The fields that differ between two recorded states, in recorded order (before's fields first)."""
    old, new = _flatten(before), _flatten(after)
    rows = []
    for name in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(name, MISSING), new.get(name, MISSING)
        if a is not MISSING and b is not MISSING and a == b:
            continue
        rows.append(
            ChangeRow(
                field=name,
                before=None if a is MISSING else format_value(a),
                after=None if b is MISSING else format_value(b),
            )
        )
    return rows


@register.inclusion_tag("partials/changes.html")
def change_diff(before: Any, after: Any) -> dict[str, Any]:
    return {"rows": change_rows(before, after), "inline": False}


@register.inclusion_tag("partials/changes.html")
def change_values(data: Any) -> dict[str, Any]:
    return {"rows": change_rows(None, data), "inline": True}
