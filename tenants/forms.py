from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password

from tenants.models import Membership, Tenant


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
