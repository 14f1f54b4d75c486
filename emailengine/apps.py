from django.apps import AppConfig


class EmailengineConfig(AppConfig):
    name = "emailengine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Cross-app /metrics families (traffic, inventory, schedule, Celery queues, scheduled jobs); the
        # collectors only query at scrape time, never here.
        from emailengine import metrics

        metrics.register()
        try:
            from emailengine import metrics_jobs
        except ImportError:  # the scheduled-job metrics ship separately (deployment work)
            return
        metrics_jobs.register()
