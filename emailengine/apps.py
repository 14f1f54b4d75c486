from django.apps import AppConfig


class EmailengineConfig(AppConfig):
    name = "emailengine"
    default_auto_field = "django.db.models.BigAutoField"
