from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared machinery every app may use; it knows no business area and imports no other app."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the system checks
