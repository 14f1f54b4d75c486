"""Filter bars render bare fields; AriaLabelled still names each one for screen readers."""

from django import forms

from core.forms import AriaLabelled


class _Filter(AriaLabelled, forms.Form):
    status = forms.ChoiceField(choices=[("", "any"), ("paused", "paused")], required=False)
    q = forms.CharField(label="Search", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"] = forms.ChoiceField(choices=[("", "any tenant")], required=False)


def test_each_field_gets_its_label_as_aria_label():
    form = _Filter()
    assert 'aria-label="Status"' in str(form["status"])
    assert 'aria-label="Search"' in str(form["q"])
    assert 'aria-label="Tenant"' in str(form["tenant"])  # added after the form's own __init__


def test_an_explicit_aria_label_wins():
    form = _Filter()
    form.fields["q"].widget.attrs["aria-label"] = "Address"
    assert 'aria-label="Address"' in str(form["q"])
