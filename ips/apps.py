from django.apps import AppConfig


class IpsConfig(AppConfig):
    name = "ips"
    default_auto_field = "django.db.models.BigAutoField"
