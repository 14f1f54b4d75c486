from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared machinery every app may use; it knows no business area and imports no other app."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"
