"""Form helpers shared by every app."""

from typing import Any

from django.forms.utils import pretty_name


class AriaLabelled:
    """A form mixin for filter bars, which render bare fields (no <label>) to stay on one line: each
    field's label becomes its aria-label, so a screen reader still names it (WCAG 4.1.2; axe's `label` and
    `select-name`). Put it first: `class IPFilterForm(AriaLabelled, forms.Form)`. Applied when a field is
    rendered, so fields a form adds in its own __init__ get it too."""

    def __getitem__(self, name: str) -> Any:
        bound = super().__getitem__(name)  # type: ignore[misc]
        bound.field.widget.attrs.setdefault("aria-label", str(bound.field.label or pretty_name(name)))
        return bound
