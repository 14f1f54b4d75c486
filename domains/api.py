"""API routes for sending domains: checks with the records to publish, rechecks, DKIM rotation.

The same access helper, forms and services as domains/views.py.
"""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from domains import services
from domains.access import check_may_force_retire, get_domain_for_user
from domains.dkim_keys import bind_record
from domains.forms import DomainCreateForm, DomainEditForm, RetireForm, RotationStartForm
from domains.models import DkimKey, DomainCheck, SendingDomain
from domains.selectors import domains_for_list, ordered_checks, rotation_for, zone_snippet
from tenants.access import require_writer
from tenants.api_kit import Page, PageParams, conflict, form_input, paginate, validated

router = Router(tags=["domains"])


class CheckSummary(Schema):
    name: str
    status: str
    explanation: str


class CheckOut(CheckSummary):
    expected_record: str = Field(description="The record to publish when the check is not ok")
    details: dict
    checked_at: datetime
    changed_at: datetime


class DomainBase(Schema):
    id: int
    name: str = Field(description="IDNA ASCII form")
    display_name: str
    tenant: str = Field(alias="tenant.slug")
    tenant_id: int
    return_path_domain: str
    expected_dmarc_policy: str
    status: str = Field(description="The worst of the latest checks")
    created_at: datetime
    last_checked_at: datetime | None

    @staticmethod
    def resolve_checks(obj: SendingDomain) -> list[DomainCheck]:
        return ordered_checks(obj)


class DomainOut(DomainBase):
    checks: list[CheckSummary] = Field(description="The latest result of each check")


class KeyOut(Schema):
    selector: str
    bits: int
    state: str
    created_at: datetime
    verified_at: datetime | None
    activated_at: datetime | None
    retire_after: datetime | None
    retired_at: datetime | None
    record: str = Field(description="The TXT record to publish for this selector (BIND syntax)")

    @staticmethod
    def resolve_record(obj: DkimKey) -> str:
        return bind_record(obj.selector, obj.domain.name, obj.public_key_b64)


class RotationOut(Schema):
    active: KeyOut | None
    pending: KeyOut | None
    retiring: list[KeyOut]
    retired: list[KeyOut]
    can_activate: bool


class DomainDetailOut(DomainBase):
    checks: list[CheckOut] = Field(description="The latest result of each check, with the record to publish")
    zone: str = Field(description="Every record to publish, as BIND zone-file lines")
    dkim: RotationOut

    @staticmethod
    def resolve_zone(obj: SendingDomain) -> str:
        return zone_snippet(obj, ordered_checks(obj))

    @staticmethod
    def resolve_dkim(obj: SendingDomain) -> object:
        return rotation_for(obj)


class DomainFilters(Schema):
    q: str = Field("", description="Part of the domain, return-path domain or tenant name")


class DomainCreateIn(Schema):
    name: str = Field(description="The From domain, e.g. news.example.com (IDNs are fine)")
    tenant: int | None = Field(None, description="Tenant id (operators; a tenant admin adds to their own)")
    return_path_domain: str = Field("", description="Empty for bounce.<domain>")
    expected_dmarc_policy: str = "quarantine"
    key_bits: int = 2048


class DomainUpdateIn(Schema):
    return_path_domain: str | None = None
    expected_dmarc_policy: str | None = None


class RotationStartIn(Schema):
    key_bits: int = 2048
    selector: str = Field("", description="Empty for one named after this month")


class RetireIn(Schema):
    selector: str
    force: bool = Field(False, description="Retire before the grace period ends (operators)")


class VerifyOut(Schema):
    ok: bool
    status: str
    explanation: str
    domain: DomainDetailOut


def _detail(domain: SendingDomain) -> SendingDomain:
    return SendingDomain.objects.select_related("tenant").prefetch_related("checks").get(pk=domain.pk)


@router.get("/domains", response=Page[DomainOut], summary="Sending domains you can see")
def domain_list(request: HttpRequest, filters: Query[DomainFilters], page: Query[PageParams]) -> dict:
    return paginate(request, domains_for_list(request, filters.q), page)


@router.post("/domains", response={201: DomainDetailOut}, summary="Add a domain (with its first DKIM key)")
def domain_create(request: HttpRequest, payload: DomainCreateIn) -> Status:
    require_writer(request)
    form = validated(DomainCreateForm(form_input(payload.dict()), request=request))
    d = form.cleaned_data
    try:
        domain = services.domain_create(
            tenant=form.acting_tenant(),
            name=d["name"],
            return_path_domain=d["return_path_domain"],
            expected_dmarc_policy=d["expected_dmarc_policy"],
            key_bits=d["key_bits"],
            by=request.user,
        )
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    return Status(201, _detail(domain))


@router.get("/domains/{int:domain_id}", response=DomainDetailOut, summary="A domain, its checks and records")
def domain_detail(request: HttpRequest, domain_id: int) -> SendingDomain:
    return _detail(get_domain_for_user(request, domain_id))


@router.patch("/domains/{int:domain_id}", response=DomainDetailOut, summary="Change return-path or DMARC")
def domain_update(request: HttpRequest, domain_id: int, payload: DomainUpdateIn) -> SendingDomain:
    domain = get_domain_for_user(request, domain_id, write=True)
    current = {
        "return_path_domain": domain.return_path_domain,
        "expected_dmarc_policy": domain.expected_dmarc_policy,
    }
    data = form_input(current | payload.dict(exclude_unset=True, exclude_none=True))
    form = validated(DomainEditForm(data, instance=SendingDomain.objects.get(pk=domain.pk)))
    services.domain_update(
        domain=domain,
        by=request.user,
        return_path_domain=form.cleaned_data["return_path_domain"],
        expected_dmarc_policy=form.cleaned_data["expected_dmarc_policy"],
    )
    return _detail(domain)


@router.delete("/domains/{int:domain_id}", response={204: None}, summary="Delete a domain")
def domain_delete(request: HttpRequest, domain_id: int) -> Status:
    domain = get_domain_for_user(request, domain_id, write=True)
    services.domain_delete(domain=domain, by=request.user)
    return Status(204, None)


@router.post("/domains/{int:domain_id}/check", response=DomainDetailOut, summary="Run the DNS checks now")
def domain_check(request: HttpRequest, domain_id: int) -> SendingDomain:
    domain = get_domain_for_user(request, domain_id, write=True)
    services.domain_check_run(domain=domain, by=request.user)
    return _detail(domain)


@router.post(
    "/domains/{int:domain_id}/dkim/start",
    response=DomainDetailOut,
    summary="DKIM rotation step 1: a new pending key whose TXT record you publish",
)
def rotation_start(request: HttpRequest, domain_id: int, payload: RotationStartIn) -> SendingDomain:
    domain = get_domain_for_user(request, domain_id, write=True)
    d = validated(RotationStartForm(form_input(payload.dict()))).cleaned_data
    try:
        services.rotation_start(domain=domain, by=request.user, bits=d["key_bits"], selector=d["selector"])
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    return _detail(domain)


@router.post(
    "/domains/{int:domain_id}/dkim/verify",
    response=VerifyOut,
    summary="DKIM rotation step 2: check that the pending key's record is published",
)
def rotation_verify(request: HttpRequest, domain_id: int) -> dict:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        verification = services.rotation_verify(domain=domain, by=request.user)
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    result = verification.result
    return {
        "ok": result.is_ok,
        "status": result.status,
        "explanation": result.explanation,
        "domain": _detail(domain),
    }


@router.post(
    "/domains/{int:domain_id}/dkim/activate",
    response=DomainDetailOut,
    summary="DKIM rotation step 3: the verified key signs; the old one stays published for the grace period",
)
def rotation_activate(request: HttpRequest, domain_id: int) -> SendingDomain:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        services.rotation_activate(domain=domain, by=request.user)
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    return _detail(domain)


@router.post("/domains/{int:domain_id}/dkim/cancel", response=DomainDetailOut, summary="Cancel a rotation")
def rotation_cancel(request: HttpRequest, domain_id: int) -> SendingDomain:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        services.rotation_cancel(domain=domain, by=request.user)
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    return _detail(domain)


@router.post(
    "/domains/{int:domain_id}/dkim/retire",
    response=DomainDetailOut,
    summary="DKIM rotation step 4: retire an old selector once its grace period is over",
)
def rotation_retire(request: HttpRequest, domain_id: int, payload: RetireIn) -> SendingDomain:
    domain = get_domain_for_user(request, domain_id, write=True)
    d = validated(RetireForm(form_input(payload.dict()))).cleaned_data
    check_may_force_retire(request, d["force"])
    try:
        services.rotation_retire(domain=domain, selector=d["selector"], by=request.user, force=d["force"])
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    return _detail(domain)
