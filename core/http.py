"""Request types for views."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """A request after django-htmx's middleware: views that read ``request.htmx`` take this type."""

    htmx: HtmxDetails
