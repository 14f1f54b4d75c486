from __future__ import annotations

from django import forms
from django.http import HttpRequest

from domains.models import (
    DmarcPolicy,
    InvalidDomainName,
    SendingDomain,
    normalise_domain,
)
from domains.services import DEFAULT_KEY_BITS
from tenants.forms import TenantChoiceMixin
from tenants.models import Tenant

KEY_SIZE_CHOICES = [
    (2048, "RSA 2048 (recommended)"),
    (1024, "RSA 1024 (only if your DNS host cannot store 2048)"),
]


def _clean_domain(value: str) -> str:
    try:
        return normalise_domain(value)
    except InvalidDomainName as exc:
        raise forms.ValidationError(str(exc)) from None


class DomainCreateForm(TenantChoiceMixin, forms.Form):
    name = forms.CharField(
        label="Domain", max_length=300, help_text="The From domain, e.g. news.example.com (IDNs are fine)"
    )
    return_path_domain = forms.CharField(
        label="Return-path (bounce) domain",
        max_length=300,
        required=False,
        help_text="Leave empty for bounce.<domain>",
    )
    expected_dmarc_policy = forms.ChoiceField(
        label="Expected DMARC policy", choices=DmarcPolicy.choices, initial=DmarcPolicy.QUARANTINE
    )
    key_bits = forms.TypedChoiceField(
        label="DKIM key size", choices=KEY_SIZE_CHOICES, coerce=int, initial=DEFAULT_KEY_BITS
    )

    skip_verification = forms.BooleanField(
        label="Skip the ownership check",
        required=False,
        help_text="Operators only: mark the domain verified without its DNS proof (audited)",
    )

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A tenant admin adds domains to their own tenant only (no tenant field). Whether another tenant has
        # claimed the name is never checked here: the service only refuses a repeat within the same tenant,
        # so the answer reveals nothing about anyone else.
        self._setup_tenant(request, required=True, queryset=Tenant.objects.filter(is_active=True))
        if "tenant" in self.fields:
            self.order_fields(["tenant"])
        else:
            del self.fields["skip_verification"]

    def clean_name(self) -> str:
        return _clean_domain(self.cleaned_data["name"])

    def clean_return_path_domain(self) -> str:
        value = self.cleaned_data["return_path_domain"]
        return _clean_domain(value) if value.strip() else ""


class DomainEditForm(forms.ModelForm):
    class Meta:
        model = SendingDomain
        fields = ["return_path_domain", "expected_dmarc_policy"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["return_path_domain"].required = False
        self.fields["return_path_domain"].help_text = "Leave empty for bounce.<domain>"

    def clean_return_path_domain(self) -> str:
        value = self.cleaned_data["return_path_domain"]
        return _clean_domain(value) if value.strip() else ""


class RotationStartForm(forms.Form):
    key_bits = forms.TypedChoiceField(
        label="Key size", choices=KEY_SIZE_CHOICES, coerce=int, initial=DEFAULT_KEY_BITS
    )
    selector = forms.SlugField(
        max_length=63, required=False, help_text="Leave empty for a new one named after this month"
    )


class RetireForm(forms.Form):
    selector = forms.CharField(max_length=63)
    force = forms.BooleanField(required=False)


class DomainSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
