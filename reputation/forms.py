from django import forms

from reputation.models import Kind, Severity


class OverviewFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "IP or domain"}),
    )
    kind = forms.ChoiceField(required=False, choices=[("", "IPs and domains"), *Kind.choices])
    problems = forms.BooleanField(required=False, label="Only problems")


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

    def clean_dqs_key(self) -> str:
        key = self.cleaned_data["dqs_key"].strip()
        # The key becomes a DNS label in front of the DQS zone.
        if key and not key.replace("-", "").isalnum():
            raise forms.ValidationError("A DQS key is letters and digits only.")
        return key
