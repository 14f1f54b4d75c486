"""Operator pages for provider groups: which recipient domains PMTA limits together (queue-to, UG5 10.9)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ips.models import ProviderGroup
from ips.providers import ProviderGroupError, provider_group_delete, provider_group_save
from tenants.access import require_operator


class ProviderGroupForm(forms.Form):
    name = forms.SlugField(
        max_length=40, help_text="The key in IP provider limits (gmail, microsoft ...); fixed once created"
    )
    label = forms.CharField(max_length=80, required=False)
    domains = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Recipient domains, one per line (orange.fr, wanadoo.fr ...)",
    )
    mx_domain = forms.CharField(
        label="MX domain",
        max_length=253,
        help_text="The grouped queue goes to this domain's MX (smtp-hosts lookup-mx:, UG5 3.3.10.89). "
        "Only group domains that this MX accepts mail for.",
    )


def provider_list(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    return render(request, "ips/provider_list.html", {"groups": ProviderGroup.objects.order_by("name")})


@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, group_id: int | None = None) -> HttpResponse:
    require_operator(request)
    group = get_object_or_404(ProviderGroup, pk=group_id) if group_id else None
    initial = (
        {
            "name": group.name,
            "label": group.label,
            "domains": "\n".join(group.domains),
            "mx_domain": group.mx_domain,
        }
        if group
        else {}
    )
    form = ProviderGroupForm(request.POST or None, initial=initial)
    if group:
        form.fields["name"].disabled = True
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                saved = provider_group_save(
                    by=request.user,
                    name=group.name if group else d["name"],
                    label=d["label"],
                    domains_text=d["domains"],
                    mx_domain=d["mx_domain"],
                    group=group,
                )
            except ProviderGroupError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"Provider group {saved.name} saved; PMTA configs pick it up on the next render."
                )
                return redirect("provider_list")
        status = 400
    title = f"Provider group {group.name}" if group else "New provider group"
    return render(
        request, "ips/provider_form.html", {"form": form, "group": group, "title": title}, status=status
    )


@require_POST
def provider_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    require_operator(request)
    group = get_object_or_404(ProviderGroup, pk=group_id)
    provider_group_delete(by=request.user, group=group)
    messages.success(request, f"Provider group {group.name} deleted; IP limits keyed by it no longer render.")
    return redirect("provider_list")
