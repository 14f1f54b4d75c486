from django.apps import AppConfig


class IpsConfig(AppConfig):
    name = "ips"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ips.metrics import register_collector

        register_collector()
