"""Raw access for superusers. Accounting rows are written by the importer, so most are read-only here."""

from django.contrib import admin

from campaigns.models import (
    AccountingCounter,
    AccountingFile,
    Campaign,
    DailyStat,
    DeliveryEvent,
    ImportRejection,
    Suppression,
)


class ImportRejectionInline(admin.TabularInline):
    model = ImportRejection
    extra = 0
    max_num = 0
    can_delete = False
    readonly_fields = ("line", "reason", "raw", "created_at")


@admin.register(AccountingFile)
class AccountingFileAdmin(admin.ModelAdmin):
    list_display = (
        "path",
        "kind",
        "server",
        "status",
        "offset",
        "records_read",
        "imported",
        "rejected",
        "updated_at",
    )
    list_filter = ("kind", "status", "server")
    search_fields = ("path",)
    list_select_related = ("server",)
    inlines = [ImportRejectionInline]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "tenant", "first_seen", "last_seen")
    list_filter = ("tenant",)
    search_fields = ("key", "name")
    list_select_related = ("tenant",)


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(admin.ModelAdmin):
    list_display = ("time_logged", "type", "outcome", "rcpt", "source_ip", "bounce_cat", "tenant")
    list_filter = ("type", "outcome")
    # Exact lookups only: a substring search over every event would scan the table.
    search_fields = ("=rcpt", "=message_id", "=fingerprint")
    raw_id_fields = ("campaign", "tenant", "server", "ip")
    list_select_related = ("tenant",)
    show_full_result_count = False


@admin.register(DailyStat)
class DailyStatAdmin(admin.ModelAdmin):
    list_display = (
        "day",
        "source_ip",
        "rcpt_domain",
        "campaign_key",
        "tenant",
        "delivered",
        "hard_bounces",
        "soft_bounces",
        "complaints",
    )
    list_filter = ("day",)
    search_fields = ("=source_ip", "=rcpt_domain", "=campaign_key")
    raw_id_fields = ("campaign", "tenant", "ip")
    list_select_related = ("tenant",)
    show_full_result_count = False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("email", "tenant", "reason", "created_at", "created_by")
    list_filter = ("reason", "tenant")
    search_fields = ("email",)
    raw_id_fields = ("source_event",)
    list_select_related = ("tenant",)


@admin.register(AccountingCounter)
class AccountingCounterAdmin(admin.ModelAdmin):
    list_display = ("name", "value")
