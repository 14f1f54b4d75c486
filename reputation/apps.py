from django.apps import AppConfig


class ReputationConfig(AppConfig):
    name = "reputation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reputation import metrics

        metrics.register()
