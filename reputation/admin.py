from django import forms
from django.contrib import admin

from reputation.models import Blocklist, CheckState, Listing, ProviderAccount, Sweep


@admin.register(Blocklist)
class BlocklistAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "zone", "kind", "severity", "enabled", "supports_dqs"]
    list_filter = ["kind", "severity", "enabled"]
    search_fields = ["name", "key", "zone"]
    # The encrypted key is edited on the dashboard's blocklist page, which never shows it back.
    exclude = ["dqs_key"]


@admin.register(Sweep)
class SweepAdmin(admin.ModelAdmin):
    list_display = ["started_at", "trigger", "duration", "targets", "queries", "listed", "errors", "failure"]
    list_filter = ["trigger"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["target", "blocklist", "code", "first_seen", "last_seen", "cleared_at", "hold_applied"]
    list_filter = ["blocklist", "target_kind"]
    search_fields = ["target", "meaning"]
    raw_id_fields = ["ip", "domain"]
    list_select_related = ["blocklist"]


@admin.register(CheckState)
class CheckStateAdmin(admin.ModelAdmin):
    list_display = ["target", "blocklist", "status", "code", "checked_at"]
    list_filter = ["status", "blocklist"]
    search_fields = ["target"]
    raw_id_fields = ["ip", "domain"]
    list_select_related = ["blocklist"]


class ProviderAccountForm(forms.ModelForm):
    """Secrets are write-only: an empty field keeps the stored (encrypted) value, which is never shown."""

    client_secret = forms.CharField(required=False, widget=forms.PasswordInput)
    refresh_token = forms.CharField(required=False, widget=forms.PasswordInput)
    snds_key = forms.CharField(required=False, widget=forms.PasswordInput, label="SNDS key")

    class Meta:
        model = ProviderAccount
        fields = [
            "kind",
            "tenant",
            "label",
            "client_id",
            "client_secret",
            "refresh_token",
            "snds_key",
            "enabled",
        ]

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        for name in ("client_secret", "refresh_token", "snds_key"):
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = ["label", "kind", "tenant", "enabled", "last_import_at", "last_error"]
    list_filter = ["kind", "enabled"]
