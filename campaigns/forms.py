"""Filter and edit forms of the campaign, bounce, message and suppression pages."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.http import HttpRequest

from campaigns.access import get_campaign_for_user
from campaigns.models import Campaign, ImportRejection, Suppression
from campaigns.selectors import EventFilters, provider_names, search_kind
from campaigns.services.suppression import SuppressionError, check_email
from core.dates import utc_today
from core.forms import AriaLabelled
from core.widgets import FastSelect
from ips.models import MtaServer
from tenants.access import actor_for
from tenants.forms import TenantChoiceMixin
from tenants.models import Tenant

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 366
IMPORT_MAX_BYTES = 20 * 1024 * 1024


class DateInput(forms.DateInput):
    input_type = "date"


class DateRangeForm(forms.Form):
    """A UTC day range; empty fields mean the last DEFAULT_DAYS days up to today."""

    start = forms.DateField(required=False, widget=DateInput, label="From")
    end = forms.DateField(required=False, widget=DateInput, label="To")

    default_days = DEFAULT_DAYS

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        end = data.get("end") or utc_today()
        start = data.get("start") or end - timedelta(days=self.default_days - 1)
        if start > end:
            raise forms.ValidationError("The start day is after the end day.")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def window(self) -> tuple[date, date]:
        """The chosen range, or the default one when the input is invalid (the page still renders)."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = utc_today()
        return end - timedelta(days=self.default_days - 1), end


class CampaignFilterForm(DateRangeForm):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "campaign key or name"}),
    )


class DrillDownForm(DateRangeForm):
    """The filters the bounce explorer and the message search share. Field names are URL parameters other
    pages link with (?tenant=<id>&ip=<address>&campaign=<id>&provider=<name>&category=<cat>&start=&end=)."""

    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.order_by("name"), required=False, empty_label="any tenant", widget=FastSelect
    )
    ip = forms.GenericIPAddressField(
        required=False, label="Sending IP", widget=forms.TextInput(attrs={"placeholder": "sending IP"})
    )
    # The campaign's id (its page links here); the view checks it through the campaign access helper.
    campaign = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    provider = forms.ChoiceField(required=False, choices=[])
    category = forms.CharField(
        required=False, max_length=50, widget=forms.TextInput(attrs={"placeholder": "any category"})
    )

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        provider = self.fields["provider"]
        assert isinstance(provider, forms.ChoiceField)
        provider.choices = [("", "any provider"), *((p, p) for p in provider_names())]
        if not actor_for(request).is_operator:
            del self.fields["tenant"]  # a tenant user's pages show only their own tenant anyway

    def clean_category(self) -> str:
        return self.cleaned_data["category"].strip().lower()

    def chosen_campaign(self) -> Campaign | None:
        """The ?campaign=<id> of a drill-down link, through the access helper: another tenant's is a 404."""
        campaign_id = self.cleaned_data.get("campaign") if self.is_valid() else None
        return get_campaign_for_user(self.request, campaign_id) if campaign_id else None

    def event_filters(self, campaign: Campaign | None) -> EventFilters:
        data = self.cleaned_data if self.is_valid() else {}
        tenant = data.get("tenant")
        return EventFilters(
            tenant_id=tenant.pk if tenant else None,
            ip=data.get("ip") or "",
            campaign_id=campaign.pk if campaign else None,
            provider=data.get("provider", ""),
            category=data.get("category", ""),
            domain=data.get("domain", ""),
        )


class BounceFilterForm(DrillDownForm):
    default_days = 7
    domain = forms.CharField(
        required=False,
        max_length=255,
        label="Recipient domain",
        widget=forms.TextInput(attrs={"placeholder": "e.g. gmail.com"}),
    )

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"].strip().lower()
        if domain and search_kind(domain) != "domain":
            raise forms.ValidationError("Enter a domain such as gmail.com.")
        return domain


class MessageSearchForm(DrillDownForm):
    q = forms.CharField(
        label="Recipient",
        max_length=320,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "full address, domain or sending IP", "autofocus": True}
        ),
    )

    def clean(self) -> dict:
        # No default range here: a search for one address reaches back over the whole retention.
        data = forms.Form.clean(self) or self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The start day is after the end day.")
        wanted = ("q", "campaign", "tenant", "ip", "provider", "category")
        if not self.has_error("q") and not any(data.get(name) for name in wanted):
            raise forms.ValidationError(
                "Enter an address, a domain or a sending IP, "
                "or choose a campaign, tenant, provider or category."
            )
        return data

    def clean_q(self) -> str:
        q = self.cleaned_data["q"].strip()
        # Exact lookups only: a substring search would scan every retained event.
        if q and search_kind(q) is None:
            raise forms.ValidationError(
                "Enter a full email address (bob@example.com), a domain (example.com) or an IP address."
            )
        return q


class SuppressionFilterForm(AriaLabelled, TenantChoiceMixin, forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=320,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "address or part of it"}),
    )
    reason = forms.ChoiceField(required=False, choices=[("", "any reason"), *Suppression.Reason.choices])

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup_tenant(request, required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {
            "q": self.cleaned_data["q"],
            "reason": self.cleaned_data["reason"],
            "tenant": self.cleaned_data.get("tenant"),
        }


class SuppressionAddForm(TenantChoiceMixin, forms.Form):
    email = forms.CharField(max_length=320, widget=forms.EmailInput(attrs={"placeholder": "bob@example.com"}))
    detail = forms.CharField(
        required=False,
        max_length=300,
        label="Note",
        widget=forms.TextInput(attrs={"placeholder": "why (optional)"}),
    )

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup_tenant(request, required=True)

    def clean_email(self) -> str:
        try:
            return check_email(self.cleaned_data["email"])
        except SuppressionError as exc:
            raise forms.ValidationError(str(exc)) from None


class SuppressionImportForm(TenantChoiceMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="One address per line, or a CSV with an 'email' column; a header line is optional.",
    )

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup_tenant(request, required=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
        return upload


class SuppressionRemoveForm(forms.Form):
    reason = forms.CharField(
        required=False, max_length=300, widget=forms.TextInput(attrs={"placeholder": "why (optional)"})
    )


class RejectionFilterForm(forms.Form):
    """Filters of the kept-records page (operators)."""

    kind = forms.ChoiceField(
        required=False, choices=[("", "Rejected and held"), *ImportRejection.Kind.choices], label="Kind"
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("open", "Open"), ("resolved", "Resolved"), ("all", "All")],
        label="Status",
    )
    server = forms.ModelChoiceField(
        required=False, queryset=MtaServer.objects.order_by("name"), empty_label="All servers"
    )
    source = forms.IntegerField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(required=False, max_length=200, label="Search reason or record")

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        server = data.get("server")
        return {
            "kind": data.get("kind") or "",
            "status": data.get("status") or "open",
            "server_id": server.pk if server else None,
            "source_id": data.get("source"),
            "q": (data.get("q") or "").strip(),
        }


class RejectionActionForm(forms.Form):
    """Re-ingest or dismiss the chosen kept records (at most REINGEST_MAX per request)."""

    ACTIONS = [
        ("reingest", "Re-ingest as the server that sent them"),
        ("reingest_by_ip", "Re-ingest as their sending IP's own server (held mismatches)"),
        ("dismiss", "Dismiss (keep them listed, import nothing)"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], required=True, error_messages={"required": "Choose at least one record."}
    )
    confirm = forms.BooleanField(required=True, label="Yes, do this for the chosen records")

    def __init__(self, *args, choices_from: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        ids = self.fields["ids"]
        assert isinstance(ids, forms.TypedMultipleChoiceField)
        ids.choices = [(pk, pk) for pk in choices_from]
