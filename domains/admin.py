from django.contrib import admin

from domains.models import DkimKey, DomainCheck, SendingDomain


class DkimKeyInline(admin.TabularInline):
    model = DkimKey
    extra = 0
    # The private key is never displayed, not even to superusers: export it through the operator page.
    fields = readonly_fields = (
        "selector",
        "bits",
        "state",
        "created_at",
        "activated_at",
        "retire_after",
        "retired_at",
    )
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class DomainCheckInline(admin.TabularInline):
    model = DomainCheck
    extra = 0
    fields = readonly_fields = ("name", "status", "explanation", "checked_at", "changed_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SendingDomain)
class SendingDomainAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "tenant",
        "return_path_domain",
        "expected_dmarc_policy",
        "status",
        "last_checked_at",
    ]
    list_filter = ["status", "expected_dmarc_policy", "tenant"]
    search_fields = ["name", "return_path_domain", "tenant__name"]
    list_select_related = ["tenant"]
    readonly_fields = ["status", "created_at", "last_checked_at"]
    inlines = [DkimKeyInline, DomainCheckInline]


@admin.register(DkimKey)
class DkimKeyAdmin(admin.ModelAdmin):
    list_display = ["selector", "domain", "bits", "state", "created_at", "activated_at", "retire_after"]
    list_filter = ["state", "bits"]
    search_fields = ["selector", "domain__name"]
    list_select_related = ["domain"]
    exclude = ["private_key"]
    readonly_fields = ["domain", "selector", "bits", "public_key_b64", "created_at"]
