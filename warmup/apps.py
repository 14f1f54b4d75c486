from django.apps import AppConfig


class WarmupConfig(AppConfig):
    name = "warmup"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.signals import accounting_batch_imported
        from warmup import metrics, receivers

        accounting_batch_imported.connect(receivers.on_accounting_batch, dispatch_uid="warmup-reply-rules")
        metrics.register()
        # The reply rules as PMTA's own backoff mode, one fragment file included by every server's config
        # (ips renders it; warmup -> ips, never the other way).
        from ips.pmta_config import register_fragment
        from warmup.pmta_backoff import FRAGMENT_NAME, render_backoff_fragment

        register_fragment(FRAGMENT_NAME, render_backoff_fragment)
