from django.conf import settings
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


class AuditEvent(models.Model):
    """One row per state change made by a person or a schedule; never edited afterwards."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept even if the user is deleted later, and names automated actors ("system: warmup ramp").
    actor_label = models.CharField(max_length=150)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # How the actor acted when not through the browser: "api token: <label>" for the JSON API.
    via = models.CharField(max_length=150, blank=True, default="", db_default="")

    class Meta:
        # The table keeps the name it had when the model lived in tenants (moved with its rows).
        db_table = "tenants_auditevent"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-created_at"]),
            models.Index(fields=["tenant", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
