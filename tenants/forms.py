from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from tenants.access import actor_for
from tenants.models import Membership, Tenant


class TenantChoiceMixin:
    """Operators act for a tenant they pick; tenant users always act for their own, so no field."""

    # Provided by the forms.Form this is mixed into.
    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def _setup_tenant(
        self, request: HttpRequest, *, required: bool, queryset: QuerySet[Tenant] | None = None
    ) -> None:
        actor = actor_for(request)
        if actor.is_operator:
            self.fields["tenant"] = forms.ModelChoiceField(
                queryset=Tenant.objects.order_by("name") if queryset is None else queryset,
                required=required,
                empty_label="choose a tenant" if required else "any tenant",
            )
            self.tenant_fixed = None
        else:
            self.tenant_fixed = Tenant.objects.filter(pk=actor.tenant_id).first() if actor.tenant_id else None

    def tenant(self) -> Tenant | None:
        return self.tenant_fixed or self.cleaned_data.get("tenant")

    def acting_tenant(self) -> Tenant:
        """The tenant a change is made for (after is_valid()): a user of no tenant changes nothing (403)."""
        tenant = self.tenant()
        if tenant is None:
            raise PermissionDenied("You are not a member of any tenant.")
        return tenant


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "slug"]


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class AuditFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    action = forms.CharField(required=False)
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.all(), required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Label", max_length=80, help_text="What the token is for, e.g. on-call script"
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=[("", "never"), (7, "in 7 days"), (30, "in 30 days"), (90, "in 90 days"), (365, "in a year")],
        coerce=int,
        empty_value=None,
        required=False,
    )
