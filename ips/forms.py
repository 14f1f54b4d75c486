from collections.abc import Sequence

from django import forms
from django.http import HttpRequest

from core.forms import AriaLabelled
from core.widgets import FastSelect
from ips.models import IPPool, IPStatus, MtaServer
from ips.selectors import IPColumn, ip_sort_keys, pool_choices
from tenants.access import actor_for
from tenants.models import Tenant


def _choice(field: forms.Field) -> forms.ChoiceField:
    assert isinstance(field, forms.ChoiceField)
    return field


def _model_choice(field: forms.Field) -> forms.ModelChoiceField:
    """A model choice field of this form, typed so its queryset can be set per request."""
    assert isinstance(field, forms.ModelChoiceField)
    return field


class PoolChoiceField(forms.ModelChoiceField):
    """Pool names repeat across servers, so the label says which server."""

    widget = FastSelect

    def label_from_instance(self, obj: IPPool) -> str:
        owner = obj.tenant.name if obj.tenant else "unassigned"
        return f"{obj.name} ({obj.server.name}, {owner})"


class IPFilterForm(AriaLabelled, forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "address, hostname or vmta"}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *IPStatus.choices])
    pool = PoolChoiceField(queryset=IPPool.objects.none(), required=False, empty_label="any pool")
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.all(), required=False, empty_label="any tenant", widget=FastSelect
    )
    server = forms.ModelChoiceField(
        queryset=MtaServer.objects.all(), required=False, empty_label="any server", widget=FastSelect
    )

    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, request: HttpRequest, columns: Sequence[IPColumn] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self.fields["pool"]).queryset = pool_choices(request)
        keys = ip_sort_keys(list(columns))
        self.sort_keys = keys
        _choice(self.fields["sort"]).choices = [("", "default"), *((k, k) for k in keys)] + [
            (f"-{k}", k) for k in keys
        ]
        # Checkbox filters the columns bring ("listed": open blocklist listings).
        self.column_filters = [c.filter_param for c in columns if c.filter_param]
        for column in columns:
            if column.filter_param:
                self.fields[column.filter_param] = forms.BooleanField(
                    required=False, label=column.filter_label
                )
        if not actor_for(request).is_operator:
            # Tenant users have one tenant and never see servers.
            del self.fields["tenant"]
            del self.fields["server"]


BULK_ACTIONS = [("pause", "Pause"), ("resume", "Resume"), ("move", "Move to pool")]


class BulkActionForm(forms.Form):
    ids: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=None,  # set per request: the IPs the user may act on
        required=False,
    )
    # "Every IP matching the list's filters", not only the ticked ones of this page: the view finds them
    # again from the filters (`next`), and `matching` is how many the operator was shown, so a set that
    # changed in between is refused instead of acted on.
    all_matching = forms.BooleanField(required=False)
    matching = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    pool = PoolChoiceField(queryset=IPPool.objects.none(), required=False, empty_label="(no pool)")
    reason = forms.CharField(required=False, max_length=300)

    def __init__(self, *args, ips_qs, pools_qs, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self.fields["ids"]).queryset = ips_qs
        _model_choice(self.fields["pool"]).queryset = pools_qs

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if not data.get("all_matching") and not data.get("ids"):
            self.add_error("ids", "Select at least one IP.")
        # A pause is the one action people must explain: the next operator will want to know why.
        if data.get("action") == "pause" and not data.get("reason", "").strip():
            self.add_error("reason", "Say why these IPs are paused.")
        return data


STATUS_ACTIONS = [
    ("warming", "Start warming"),
    ("active", "Activate"),
    ("paused", "Pause"),
    ("resume", "Resume"),
    ("retired", "Retire"),
    ("new", "Back to new"),
]


class IPStatusForm(forms.Form):
    to = forms.ChoiceField(choices=STATUS_ACTIONS)
    reason = forms.CharField(required=False, max_length=300)

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("to") in ("paused", "retired") and not data.get("reason", "").strip():
            self.add_error("reason", "A reason is required to pause or retire an IP.")
        return data


class IPMoveForm(forms.Form):
    pool = PoolChoiceField(queryset=IPPool.objects.none(), required=False, empty_label="(no pool)")
    reason = forms.CharField(required=False, max_length=300)

    def __init__(self, *args, server: MtaServer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self.fields["pool"]).queryset = IPPool.objects.filter(server=server).select_related(
            "server", "tenant"
        )


class IPHostnameForm(forms.Form):
    hostname = forms.CharField(required=False, max_length=253, label="HELO / PTR hostname")


class BulkAddForm(forms.Form):
    text = forms.CharField(
        label="IPs and CIDR ranges",
        widget=forms.Textarea(
            attrs={"rows": 10, "placeholder": "203.0.113.0/24\n198.51.100.7\n2001:db8::10"}
        ),
        help_text="One per line; # starts a comment. A /24 adds its 254 hosts.",
    )
    server = forms.ModelChoiceField(queryset=MtaServer.objects.all())
    pool = PoolChoiceField(
        queryset=IPPool.objects.select_related("server", "tenant"), required=False, empty_label="(no pool)"
    )
    hostname_template = forms.CharField(
        required=False,
        max_length=200,
        help_text="Optional, e.g. mail-{ip}.example.com ({ip} becomes 203-0-113-10)",
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        pool, server = data.get("pool"), data.get("server")
        if pool and server and pool.server_id != server.pk:
            self.add_error("pool", f"Pool {pool.name} is on {pool.server.name}, not {server.name}.")
        return data


class PoolCreateForm(forms.ModelForm):
    class Meta:
        model = IPPool
        fields = ["name", "server", "tenant", "description"]


class PoolEditForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.all(), required=False, empty_label="(unassigned)")
    description = forms.CharField(required=False, max_length=200)


class ServerCreateForm(forms.ModelForm):
    mgmt_api_key = forms.CharField(
        required=False, label="Management API key", widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = MtaServer
        fields = ["name", "hostname", "mgmt_url", "mgmt_api_key", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ServerEditForm(forms.Form):
    hostname = forms.CharField(required=False, max_length=253)
    mgmt_url = forms.URLField(required=False, label="Management URL")
    # Never rendered back: an empty field keeps the stored key.
    mgmt_api_key = forms.CharField(
        required=False,
        label="New management API key",
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current key.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored API key")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def changes(self, server: MtaServer) -> dict[str, str]:
        data = self.cleaned_data
        changes = {f: data[f] for f in ("hostname", "mgmt_url", "notes") if data[f] != getattr(server, f)}
        if data["mgmt_api_key"]:
            changes["mgmt_api_key"] = data["mgmt_api_key"]
        elif data["clear_api_key"] and server.mgmt_api_key:
            changes["mgmt_api_key"] = ""
        return changes
