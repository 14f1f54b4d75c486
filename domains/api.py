"""API routes for sending domains: checks with the records to publish, rechecks, DKIM rotation.

The same access helper, forms and services as domains/views.py.
"""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from domains import services
from domains.access import check_may_force_retire, get_domain_for_user
from domains.dkim_keys import bind_record
from domains.forms import DomainCreateForm, DomainEditForm, RetireForm, RotationStartForm
from domains.models import DkimKey, DomainCheck, SendingDomain
from domains.pmta_fragment import FRAGMENT_NAME, key_path, render_dkim_fragment, signing_keys
from domains.selectors import domains_for_list, ordered_checks, rotation_for, zone_snippet
from ips.models import MtaServer
from tenants.access import require_operator, require_writer
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


class OwnershipOut(Schema):
    state: str = Field(alias="ownership", description="pending, dns, operator or existing")
    verified_at: datetime | None
    record: str = Field(
        alias="verification_record",
        description="The TXT record that proves ownership (publish while pending)",
    )


class DomainDetailOut(DomainBase):
    ownership: OwnershipOut = Field(description="Until verified, PMTA does not sign for the domain")
    checks: list[CheckOut] = Field(description="The latest result of each check, with the record to publish")
    zone: str = Field(description="Every record to publish, as BIND zone-file lines")
    dkim: RotationOut

    @staticmethod
    def resolve_ownership(obj: SendingDomain) -> SendingDomain:
        return obj

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


# --- ownership ---------------------------------------------------------------------------------------------


class OwnershipVerifyOut(Schema):
    verified: bool
    explanation: str
    domain: DomainDetailOut


@router.post(
    "/domains/{int:domain_id}/verify",
    response=OwnershipVerifyOut,
    summary="Look up the ownership TXT record now; a domain is signed for once verified",
)
def domain_verify(request: HttpRequest, domain_id: int) -> dict:
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        result = services.domain_ownership_verify(domain=domain, by=request.user)
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    return {"verified": result.verified, "explanation": result.explanation, "domain": _detail(domain)}


class SkipIn(Schema):
    reason: str = Field(max_length=300, description="Why the DNS proof is skipped (kept in the audit log)")


@router.post(
    "/domains/{int:domain_id}/verify/skip",
    response=DomainDetailOut,
    summary="Vouch for a domain without the DNS proof (operators; audited with the reason)",
)
def domain_verify_skip(request: HttpRequest, domain_id: int, payload: SkipIn) -> SendingDomain:
    require_operator(request)
    domain = get_domain_for_user(request, domain_id, write=True)
    try:
        services.domain_ownership_skip(domain=domain, by=request.user, reason=payload.reason)
    except services.DomainError as exc:
        raise conflict(str(exc)) from None
    return _detail(domain)


# --- operators: the PMTA DKIM fragment, public keys and the key files ------------------------------------


def _server(name: str) -> MtaServer | None:
    return get_object_or_404(MtaServer, name=name.strip()) if name.strip() else None


class SigningKeyOut(Schema):
    domain: str = Field(alias="domain.name")
    selector: str
    state: str = Field(description="active (signs) or retiring (still loadable until retired)")
    bits: int
    public_key: str = Field(alias="public_key_b64", description="The p= value (base64 SubjectPublicKeyInfo)")
    record: str = Field(description="The TXT record to publish (BIND syntax)")
    path: str = Field(description="Where PMTA reads the private key on the host")

    @staticmethod
    def resolve_record(obj: DkimKey) -> str:
        return bind_record(obj.selector, obj.domain.name, obj.public_key_b64)

    @staticmethod
    def resolve_path(obj: DkimKey) -> str:
        return key_path(obj)


class FragmentOut(Schema):
    name: str = Field(description="The fragment's file name in the PMTA include directory")
    text: str
    keys: list[SigningKeyOut] = Field(description="Every key PMTA signs with, with its public half")


class FragmentFilters(Schema):
    server: str = Field("", description="A server's name: only the domains of its tenants (default: all)")


@router.get(
    "/domains/dkim/fragment",
    response=FragmentOut,
    summary="The PMTA DKIM fragment and the public keys it signs with (operators)",
)
def dkim_fragment(request: HttpRequest, filters: Query[FragmentFilters]) -> dict:
    require_operator(request)
    server = _server(filters.server)
    return {
        "name": FRAGMENT_NAME,
        "text": render_dkim_fragment(server),
        "keys": list(signing_keys(server).defer("private_key")),
    }


class KeysExportIn(Schema):
    server: str = Field("", description="A server's name: only the keys it signs with (default: all)")


@router.post(
    "/domains/dkim/keys",
    response={200: None},
    summary="The private keys as a .tar.gz for PMTA (operators; the only way keys leave, audited)",
)
def dkim_keys_export(request: HttpRequest, payload: KeysExportIn) -> HttpResponse:
    require_operator(request)
    server = _server(payload.server)
    data, _count = services.dkim_keys_export(server=server, by=request.user)
    filename = f"emailengine-dkim-{server.name}.tar.gz" if server else "emailengine-dkim.tar.gz"
    response = HttpResponse(data, content_type="application/gzip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
