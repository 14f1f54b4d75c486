from django.contrib import admin

from core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is evidence, so not even a superuser edits it here."""

    list_display = ["created_at", "actor_label", "action", "object_repr", "tenant", "ip_address"]
    list_filter = ["action", "tenant", "object_type"]
    search_fields = ["actor_label", "object_repr", "reason", "action"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
