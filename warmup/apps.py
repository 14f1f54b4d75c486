from django.apps import AppConfig


class WarmupConfig(AppConfig):
    name = "warmup"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.signals import accounting_batch_imported
        from warmup import metrics, receivers

        accounting_batch_imported.connect(receivers.on_accounting_batch, dispatch_uid="warmup-reply-rules")
        metrics.register()
