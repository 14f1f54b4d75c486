"""API routes for MailWizz: a tenant's connection (settings, test, sync now), its synced campaigns and the
bounce/complaint outbox. The same access helpers, forms and services as mailwizz/views.py: tenant users
see their own tenant (admins change it, viewers read); operators see every tenant."""

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from mailwizz import services
from mailwizz.access import get_mailwizz_tenant_for_user, get_outbox_for_user
from mailwizz.forms import MailWizzConfigForm, OutboxFilterForm
from mailwizz.models import MailWizzConfig, MailWizzOutbox
from mailwizz.selectors import (
    mailwizz_campaigns_filtered,
    mailwizz_config_for,
    outbox_filtered,
    outbox_status_counts,
)
from tenants.api_kit import Page, PageParams, conflict, form_input, paginate, validated
from tenants.models import Tenant

router = Router(tags=["mailwizz"])


class ConnectionOut(Schema):
    tenant: str
    configured: bool = Field(description="false until the settings are saved once")
    enabled: bool
    base_url: str
    mode: str = Field(description="mw1 (1.x, signed requests) or mw2")
    header_prefix: str
    campaign_key_prefix: str
    api_key_set: bool = Field(description="Keys are write-only: only whether each is set is shown")
    private_key_set: bool
    last_sync_at: datetime | None
    last_sync_ok_at: datetime | None
    last_error: str
    campaigns_synced: int
    routes: dict = Field(description="The write routes this MailWizz serves (found by the connection test)")
    outbox: dict[str, int] = Field(description="The tenant's outbox rows by status")
    campaign_source: str = Field(
        description="Where accounting reads campaign keys (ACCOUNTING_CAMPAIGN_SOURCE)"
    )


def _connection(tenant: Tenant) -> dict:
    config = mailwizz_config_for(tenant)
    counts = {status: n for status, _label, n in outbox_status_counts(tenant.mailwizz_outbox.all())}
    base = {"tenant": tenant.slug, "outbox": counts, "campaign_source": settings.ACCOUNTING_CAMPAIGN_SOURCE}
    if config is None:
        blank = MailWizzConfig(tenant=tenant)
        return {**base, **_fields(blank), "configured": False, "api_key_set": False, "private_key_set": False}
    return {**base, **_fields(config), "configured": True}


def _fields(config: MailWizzConfig) -> dict:
    names = ("enabled", "base_url", "mode", "header_prefix", "campaign_key_prefix", "last_sync_at")
    more = ("last_sync_ok_at", "last_error", "campaigns_synced", "routes", "api_key_set", "private_key_set")
    return {name: getattr(config, name) for name in (*names, *more)}


@router.get(
    "/mailwizz/tenants/{int:tenant_id}",
    response=ConnectionOut,
    summary="A tenant's MailWizz connection and sync state",
)
def mailwizz_connection(request: HttpRequest, tenant_id: int) -> dict:
    return _connection(get_mailwizz_tenant_for_user(request, tenant_id))


class ConnectionIn(Schema):
    base_url: str = Field(description="The MailWizz API URL, e.g. https://mw.example.com/api")
    mode: Literal["mw1", "mw2"] = "mw2"
    api_key: str = Field("", description="Write-only; empty keeps the stored key")
    private_key: str = Field("", description="MailWizz 1.x only; write-only; empty keeps the stored key")
    header_prefix: str = "X-Mw-"
    campaign_key_prefix: str = "mailwizz-"
    enabled: bool = True


@router.put(
    "/mailwizz/tenants/{int:tenant_id}",
    response=ConnectionOut,
    summary="Save a tenant's MailWizz settings (tenant admins, operators)",
)
def mailwizz_connection_save(request: HttpRequest, tenant_id: int, payload: ConnectionIn) -> dict:
    tenant = get_mailwizz_tenant_for_user(request, tenant_id, write=True)
    form = validated(MailWizzConfigForm(form_input(payload.dict()), config=mailwizz_config_for(tenant)))
    d = form.cleaned_data
    try:
        services.mailwizz_config_save(
            tenant=tenant,
            by=request.user,
            base_url=d["base_url"],
            mode=d["mode"],
            header_prefix=d["header_prefix"],
            campaign_key_prefix=d["campaign_key_prefix"],
            enabled=d["enabled"],
            api_key=d["api_key"],
            private_key=d["private_key"],
        )
    except services.MailWizzConfigError as exc:
        raise conflict(str(exc)) from None
    return _connection(tenant)


class TestOut(Schema):
    ok: bool
    message: str


@router.post(
    "/mailwizz/tenants/{int:tenant_id}/test",
    response=TestOut,
    summary="Test the connection (one read; finds which write routes the outbox can use)",
)
def mailwizz_test(request: HttpRequest, tenant_id: int) -> services.ConnectionResult:
    tenant = get_mailwizz_tenant_for_user(request, tenant_id, write=True)
    config = mailwizz_config_for(tenant)
    if config is None:
        # As on the settings page: a result to show, not an error.
        return services.ConnectionResult(False, "MailWizz is not set up for this tenant yet: save it first.")
    return services.mailwizz_connection_test(config=config)


class SyncOut(Schema):
    ok: bool
    campaigns: int
    renamed: int = Field(description="Accounting campaigns that got their MailWizz name")
    error: str


@router.post(
    "/mailwizz/tenants/{int:tenant_id}/sync",
    response=SyncOut,
    summary="Sync the tenant's MailWizz campaigns now",
)
def mailwizz_sync_now(request: HttpRequest, tenant_id: int) -> services.SyncResult:
    tenant = get_mailwizz_tenant_for_user(request, tenant_id, write=True)
    try:
        return services.mailwizz_sync_campaigns(tenant=tenant, by=request.user)
    except services.MailWizzConfigError as exc:
        raise conflict(str(exc)) from None


class CampaignOut(Schema):
    uid: str
    name: str
    status: str
    list_uid: str
    list_name: str
    send_at: datetime | None
    synced_at: datetime


class CampaignFilters(Schema):
    q: str = Field("", max_length=200, description="Part of the name, uid or list name")


@router.get(
    "/mailwizz/tenants/{int:tenant_id}/campaigns",
    response=Page[CampaignOut],
    summary="The tenant's synced MailWizz campaigns",
)
def mailwizz_campaigns(
    request: HttpRequest, tenant_id: int, filters: Query[CampaignFilters], page: Query[PageParams]
) -> dict:
    tenant = get_mailwizz_tenant_for_user(request, tenant_id)
    return paginate(request, mailwizz_campaigns_filtered(tenant=tenant, q=filters.q.strip()), page)


class OutboxOut(Schema):
    id: int
    tenant: str = Field(alias="tenant.slug")
    kind: str
    email: str
    campaign_uid: str
    message: str
    status: str
    attempts: int
    next_retry_at: datetime | None
    last_error: str
    created_at: datetime
    sent_at: datetime | None


class OutboxFilters(Schema):
    q: str = Field("", description="Part of an address, or a campaign uid")
    status: Literal["", "pending", "sent", "failed"] = ""
    kind: Literal["", "hard_bounce", "complaint"] = ""
    tenant: int | None = Field(None, description="Tenant id (operators)")


@router.get("/mailwizz/outbox", response=Page[OutboxOut], summary="Bounces and complaints sent to MailWizz")
def mailwizz_outbox(request: HttpRequest, filters: Query[OutboxFilters], page: Query[PageParams]) -> dict:
    form = validated(OutboxFilterForm(form_input(filters.dict()), request=request))
    return paginate(request, outbox_filtered(request, **form.filters()), page)


@router.post(
    "/mailwizz/outbox/{int:outbox_id}/retry",
    response=OutboxOut,
    summary="Send a failed outbox row again at the next run",
)
def mailwizz_outbox_retry(request: HttpRequest, outbox_id: int) -> MailWizzOutbox:
    row = get_outbox_for_user(request, outbox_id, write=True)
    try:
        return services.mailwizz_outbox_retry(row=row, by=request.user)
    except services.MailWizzOutboxError as exc:
        raise conflict(str(exc)) from None
