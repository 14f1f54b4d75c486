from django.db import models


class ScheduledJobState(models.Model):
    """One row per scheduled job (the beat schedule entry's name), overwritten on every run.

    Only the latest run is kept, so the table stays as small as the schedule; the history lives in the
    logs (one JSON line per start and end) and in Prometheus.
    """

    name = models.CharField(max_length=200, primary_key=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # None until a run has finished; the outcome of the latest finished run after that.
    last_ok = models.BooleanField(null=True, blank=True)
    last_duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_counts = models.JSONField(null=True, blank=True)
    runs = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveBigIntegerField(default=0)

    class Meta:
        # The table keeps the name it had when the model lived in tenants (moved with its rows).
        db_table = "tenants_scheduledjobstate"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
