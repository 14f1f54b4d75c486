import re
from typing import Any

from django import forms

from core.forms import AriaLabelled
from reputation.models import Blocklist, Kind, ProviderAccount, Severity
from reputation.services import PROVIDER_FIELD_NAMES, PROVIDER_REQUIRED
from tenants.models import Tenant


class OverviewFilterForm(AriaLabelled, forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "IP or domain"}),
    )
    kind = forms.ChoiceField(required=False, choices=[("", "IPs and domains"), *Kind.choices])
    # ?only=problems (listed or no verdict) | listed; ?problems=1 is the older spelling of only=problems.
    only = forms.ChoiceField(
        required=False,
        choices=[("", "all targets"), ("problems", "only problems"), ("listed", "only listed")],
        label="Show",
    )
    problems = forms.BooleanField(required=False, label="Only problems")

    def only_value(self) -> str:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("only") or ("problems" if data.get("problems") else "")


GRID_ACTIONS = [("recheck", "Re-check now"), ("pause", "Pause the selected IPs")]


class GridBulkForm(forms.Form):
    """A bulk action on ticked grid rows ("ip:<pk>" / "domain:<pk>"); the view resolves them in scope."""

    targets = forms.MultipleChoiceField(
        choices=[], error_messages={"required": "Select at least one IP or domain."}
    )
    action = forms.ChoiceField(choices=GRID_ACTIONS)
    reason = forms.CharField(required=False, max_length=300)

    def __init__(self, *args, choices: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        targets = self.fields["targets"]
        assert isinstance(targets, forms.MultipleChoiceField)
        targets.choices = [(c, c) for c in choices]

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        # As on the IP list: a pause must say why, for the next operator.
        if data.get("action") == "pause" and not data.get("reason", "").strip():
            self.add_error("reason", "Say why these IPs are paused.")
        return data

    def picked(self, kind: str) -> list[int]:
        return [
            int(v.split(":", 1)[1]) for v in self.cleaned_data.get("targets", []) if v.startswith(f"{kind}:")
        ]


class BlocklistForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    severity = forms.ChoiceField(
        choices=Severity.choices,
        help_text="A new listing on a critical list puts the IP on hold.",
    )
    delist_url = forms.URLField(label="Delisting URL", required=False, assume_scheme="https")
    # Write-only: the current key is never sent back to the browser.
    dqs_key = forms.CharField(
        label="DQS access key",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the current key.",
    )
    clear_dqs_key = forms.BooleanField(label="Remove the DQS key", required=False)

    def __init__(self, *args: Any, blocklist: Blocklist, **kwargs: Any) -> None:
        kwargs.setdefault("initial", self.current(blocklist))
        super().__init__(*args, **kwargs)
        if not blocklist.supports_dqs:
            del self.fields["dqs_key"], self.fields["clear_dqs_key"]

    @staticmethod
    def current(blocklist: Blocklist) -> dict[str, Any]:
        """The list's settings as the form's values (never its DQS key, which is write-only)."""
        return {
            "enabled": blocklist.enabled,
            "severity": blocklist.severity,
            "delist_url": blocklist.delist_url,
        }

    def changes(self) -> dict[str, Any]:
        """services.blocklist_update's arguments: dqs_key "" removes the key, None keeps the current one."""
        data = self.cleaned_data
        return {
            "dqs_key": "" if data.get("clear_dqs_key") else (data.get("dqs_key") or None),
            "enabled": data["enabled"],
            "severity": data["severity"],
            "delist_url": data["delist_url"],
        }

    def clean_dqs_key(self) -> str:
        key = self.cleaned_data["dqs_key"].strip()
        # The key becomes a DNS label in front of the DQS zone.
        if key and not key.replace("-", "").isalnum():
            raise forms.ValidationError("A DQS key is letters and digits only.")
        return key


class SecretInput(forms.PasswordInput):
    """Write-only: never rendered back; the placeholder says whether a value is stored."""

    def __init__(self) -> None:
        super().__init__(render_value=False, attrs={"autocomplete": "new-password"})


# Google's OAuth client IDs end with this (the Cloud console shows NNN-xxxx.apps.googleusercontent.com).
_GOOGLE_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]+\.apps\.googleusercontent\.com$")
# Microsoft does not document the SNDS key's format; the keys it issues are GUID-like (letters, digits and
# dashes). Anything else would end up in a URL query string, so refuse it with a clear message.
_SNDS_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class ProviderAccountForm(forms.Form):
    """A Google Postmaster Tools v2 or Microsoft SNDS account. Secrets are write-only: empty keeps the
    stored value. Operators choose the tenant (or none: the operator's own account, reading every tenant's
    domains); a tenant admin's account is always their own tenant's."""

    kind = forms.ChoiceField(choices=ProviderAccount.Kind.choices, label="Provider")
    label = forms.CharField(max_length=100)
    client_id = forms.CharField(
        required=False,
        max_length=200,
        label="OAuth client ID",
        help_text="Google Cloud OAuth client (…apps.googleusercontent.com) whose refresh token was granted "
        "the scope https://www.googleapis.com/auth/postmaster.traffic.readonly.",
    )
    client_secret = forms.CharField(
        required=False, max_length=500, label="OAuth client secret", widget=SecretInput()
    )
    refresh_token = forms.CharField(
        required=False, max_length=2048, label="Refresh token", widget=SecretInput()
    )
    snds_key = forms.CharField(
        required=False,
        max_length=64,
        label="SNDS key",
        widget=SecretInput(),
        help_text="From SNDS → Automated Data Access (sendersupport.olc.protection.outlook.com/snds).",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled (imported daily)")

    def __init__(
        self, *args: Any, account: ProviderAccount | None = None, operator: bool = False, **kwargs: Any
    ):
        if account is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "kind": account.kind,
                "label": account.label,
                "client_id": account.client_id,
                "enabled": account.enabled,
                "tenant": account.tenant_id,
            }
        super().__init__(*args, **kwargs)
        self.account = account
        if operator:
            self.fields["tenant"] = forms.ModelChoiceField(
                queryset=Tenant.objects.order_by("name"),
                required=False,
                empty_label="Operator (reads every tenant's domains)",
                help_text="A tenant's account reads only that tenant's sending domains.",
            )
        if account is not None:
            self.fields["kind"].disabled = True  # its stored secrets belong to that kind
        for name in ("client_secret", "refresh_token", "snds_key"):
            stored = account is not None and bool(getattr(account, name))
            self.fields[name].widget.attrs["placeholder"] = (
                "set (leave empty to keep)" if stored else "not set"
            )

    def clean_client_id(self) -> str:
        value = self.cleaned_data["client_id"].strip()
        if value and not _GOOGLE_CLIENT_ID.match(value):
            raise forms.ValidationError("A Google OAuth client ID ends with .apps.googleusercontent.com.")
        return value

    def _no_spaces(self, name: str, what: str) -> str:
        value = self.cleaned_data[name].strip()
        if value and any(c.isspace() for c in value):
            raise forms.ValidationError(f"The {what} is one word, without spaces or line breaks.")
        return value

    def clean_client_secret(self) -> str:
        return self._no_spaces("client_secret", "client secret")

    def clean_refresh_token(self) -> str:
        return self._no_spaces("refresh_token", "refresh token")

    def clean_snds_key(self) -> str:
        value = self.cleaned_data["snds_key"].strip()
        if value and not _SNDS_KEY.match(value):
            raise forms.ValidationError(
                "An SNDS key is 8 to 64 letters, digits and dashes (copy it from SNDS)."
            )
        return value

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")

        def has(name: str) -> bool:
            return bool(data.get(name)) or (self.account is not None and bool(getattr(self.account, name)))

        # The same list the service enforces (services.PROVIDER_REQUIRED), shown next to the field.
        label = dict(ProviderAccount.Kind.choices).get(kind or "", "")
        for name in PROVIDER_REQUIRED.get(kind or "", ()):
            if not has(name) and name not in self.errors:
                self.add_error(name, f"{label} needs {PROVIDER_FIELD_NAMES[name]}.")
        return data

    def secrets(self) -> dict[str, str]:
        """The secrets typed in this time (empty ones keep what is stored)."""
        return {n: self.cleaned_data.get(n) or "" for n in ("client_secret", "refresh_token", "snds_key")}
