from django import forms
from django.contrib import admin, messages

from core.audit import audit_record
from ips.models import IPAddress, IPPool, MtaServer


class MtaServerAdminForm(forms.ModelForm):
    # Write-only: the stored key is never sent back to the browser; empty keeps it.
    new_mgmt_api_key = forms.CharField(
        required=False,
        label="Management API key",
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current key.",
    )
    clear_mgmt_api_key = forms.BooleanField(required=False, label="Remove the stored API key")

    class Meta:
        model = MtaServer
        fields = ["name", "hostname", "mgmt_url", "notes"]


@admin.register(MtaServer)
class MtaServerAdmin(admin.ModelAdmin):
    form = MtaServerAdminForm
    list_display = ["name", "hostname", "mgmt_url", "health_label", "health_checked_at", "webhook_token_hint"]
    search_fields = ["name", "hostname"]
    list_filter = ["health_up"]
    readonly_fields = [
        "webhook_token_hint",
        "api_key_state",
        "health_checked_at",
        "health_up",
        "health_error",
    ]
    fields = [
        "name",
        "hostname",
        "mgmt_url",
        "new_mgmt_api_key",
        "clear_mgmt_api_key",
        "api_key_state",
        "notes",
        "webhook_token_hint",
        "health_checked_at",
        "health_up",
        "health_error",
    ]

    @admin.display(description="API key")
    def api_key_state(self, obj: MtaServer) -> str:
        return "set" if obj.pk and obj.mgmt_api_key else "not set"

    def save_model(self, request, obj: MtaServer, form, change: bool) -> None:
        if form.cleaned_data.get("new_mgmt_api_key"):
            obj.mgmt_api_key = form.cleaned_data["new_mgmt_api_key"]
        elif form.cleaned_data.get("clear_mgmt_api_key"):
            obj.mgmt_api_key = ""
        token = None
        if not change:
            token = MtaServer.new_token()
            obj.set_webhook_token(token)
        super().save_model(request, obj, form, change)
        audit_record(
            action="server.update" if change else "server.create",
            by=request.user,
            obj=obj,
            after={f: form.cleaned_data.get(f) for f in ("hostname", "mgmt_url")}
            | {"api_key_set": bool(obj.mgmt_api_key)},
            reason="Django admin",
        )
        if token:
            messages.warning(request, f"Webhook token for {obj.name} (shown once, copy it now): {token}")


@admin.register(IPPool)
class IPPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "server", "tenant", "description", "created_at"]
    list_filter = ["server", "tenant"]
    search_fields = ["name", "description", "tenant__name"]
    list_select_related = ["server", "tenant"]


@admin.register(IPAddress)
class IPAddressAdmin(admin.ModelAdmin):
    list_display = [
        "address",
        "hostname",
        "vmta_name",
        "server",
        "pool",
        "status",
        "daily_limit",
        "hourly_limit",
        "rdns_status",
    ]
    list_filter = ["status", "server", "pool", "rdns_status"]
    search_fields = ["address", "hostname", "vmta_name"]
    list_select_related = ["server", "pool"]
    readonly_fields = ["status_changed_at", "limits_changed_at", "rdns_checked_at", "created_at"]
