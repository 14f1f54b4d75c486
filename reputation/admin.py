from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from reputation.models import Blocklist, CheckState, Listing, ProviderAccount, Sweep
from reputation.services import (
    PROVIDER_FIELD_NAMES,
    PROVIDER_REQUIRED,
    PROVIDER_SECRETS,
    provider_account_delete,
    provider_account_save,
)


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
        for name in PROVIDER_SECRETS:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        # The same requirements as the dashboard form and the service (services.PROVIDER_REQUIRED).
        kind = data.get("kind") or self.instance.kind
        for name in PROVIDER_REQUIRED.get(kind, ()):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, f"Needed: {PROVIDER_FIELD_NAMES[name]}.")
        return data


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    """Kept for superusers; the dashboard (/reputation/providers/accounts/) is the place to manage accounts.
    Saves and deletes go through the same services, so they are audited the same way."""

    form = ProviderAccountForm
    list_display = ["label", "kind", "tenant", "enabled", "last_import_at", "last_error"]
    list_filter = ["kind", "enabled"]

    def get_readonly_fields(self, request: HttpRequest, obj: ProviderAccount | None = None) -> list[str]:
        return ["kind"] if obj is not None else []  # an account's secrets belong to its kind

    def save_model(
        self, request: HttpRequest, obj: ProviderAccount, form: forms.ModelForm, change: bool
    ) -> None:
        stored = ProviderAccount.objects.get(pk=obj.pk) if change else None
        data = form.cleaned_data
        secrets = {
            name: data[name]
            for name in PROVIDER_SECRETS
            if data.get(name) and (stored is None or data[name] != getattr(stored, name))
        }
        saved = provider_account_save(
            account=stored,
            by=request.user,
            kind=stored.kind if stored is not None else data["kind"],
            tenant_id=data["tenant"].pk if data.get("tenant") else None,
            label=data["label"],
            client_id=data.get("client_id", ""),
            enabled=data.get("enabled", False),
            secrets=secrets,
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: ProviderAccount) -> None:
        provider_account_delete(account=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ProviderAccount]) -> None:
        for account in queryset:
            provider_account_delete(account=account, by=request.user)
