"""Forms of the MailWizz pages: the per-tenant settings and the outbox filters."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.http import HttpRequest

from mailwizz.models import MailWizzConfig, MailWizzOutbox
from mailwizz.services import MailWizzConfigError, check_base_url
from tenants.access import actor_for
from tenants.models import Tenant

_header_chars = RegexValidator(r"^[A-Za-z0-9-]*$", "Letters, digits and '-' only (a header name prefix).")


class SecretInput(forms.PasswordInput):
    """Write-only: never rendered back; the placeholder says whether a value is stored."""

    def __init__(self) -> None:
        super().__init__(render_value=False, attrs={"autocomplete": "new-password"})


class MailWizzConfigForm(forms.Form):
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled (sync and feedback run)")
    base_url = forms.CharField(
        max_length=500,
        label="API URL",
        widget=forms.URLInput(attrs={"placeholder": "https://mw.example.com/api"}),
    )
    mode = forms.ChoiceField(choices=MailWizzConfig.Mode.choices, initial=MailWizzConfig.Mode.MW2)
    api_key = forms.CharField(
        required=False, max_length=200, label="API key (1.x: public key)", widget=SecretInput()
    )
    private_key = forms.CharField(
        required=False, max_length=200, label="Private key (1.x only)", widget=SecretInput()
    )
    header_prefix = forms.CharField(
        required=False,
        max_length=40,
        initial="X-Mw-",
        validators=[_header_chars],
        label="Campaign header prefix",
        help_text="MailWizz's email.custom.header.prefix: X-Mw- (1.x), X- (2.x) "
        "or the random one your install uses.",
    )
    campaign_key_prefix = forms.CharField(
        required=False,
        max_length=60,
        initial="mailwizz-",
        label="Campaign key prefix",
        help_text="Stripped from the accounting campaign key to get the MailWizz campaign uid "
        "(X-Job: mailwizz-[CAMPAIGN_UID]). Leave empty when the key is the uid itself.",
    )

    def __init__(self, *args, config: MailWizzConfig | None = None, **kwargs) -> None:
        if config is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                f: getattr(config, f)
                for f in ("enabled", "base_url", "mode", "header_prefix", "campaign_key_prefix")
            }
        super().__init__(*args, **kwargs)
        self.config = config
        for name, is_set in (
            ("api_key", config is not None and config.api_key_set),
            ("private_key", config is not None and config.private_key_set),
        ):
            self.fields[name].widget.attrs["placeholder"] = (
                "set (leave empty to keep)" if is_set else "not set"
            )

    def clean_base_url(self) -> str:
        try:
            return check_base_url(self.cleaned_data["base_url"])
        except MailWizzConfigError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        has_key = bool(data.get("api_key")) or (self.config is not None and self.config.api_key_set)
        has_private = bool(data.get("private_key")) or (
            self.config is not None and self.config.private_key_set
        )
        if not has_key:
            self.add_error("api_key", "Enter the API key.")
        if data.get("mode") == MailWizzConfig.Mode.MW1 and not has_private:
            self.add_error("private_key", "MailWizz 1.x signs requests: enter the private key too.")
        return data


class OutboxFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=320,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "address or campaign uid"}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *MailWizzOutbox.Status.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "any kind"), *MailWizzOutbox.Kind.choices])

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if actor_for(request).is_operator:
            self.fields["tenant"] = forms.ModelChoiceField(
                queryset=Tenant.objects.order_by("name"), required=False, empty_label="any tenant"
            )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: self.cleaned_data.get(k) for k in ("q", "status", "kind", "tenant")}
