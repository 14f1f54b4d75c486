"""``{% load rates %}``: ``{{ value|rate }}`` shows a fraction from campaigns.stats as percent with two
significant digits (the one display rule for rates)."""

from django import template

from campaigns.stats import format_rate

register = template.Library()


@register.filter
def rate(value: float | None) -> str:
    if value is None or value == "":
        return format_rate(None)
    return format_rate(float(value))
