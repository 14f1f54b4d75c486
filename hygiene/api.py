"""API routes for list hygiene (address validation jobs): submit addresses or a CSV, poll, fetch the result.

The same form (its checks and size limits), services, task and access helpers as hygiene/views.py.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from hygiene import rules, services, views
from hygiene.access import get_validation_job_for_user
from hygiene.forms import ValidationUploadForm
from hygiene.models import ValidationJob
from hygiene.selectors import validation_jobs_for
from hygiene.tasks import validation_job_enqueue
from tenants.access import require_writer
from tenants.api_kit import Page, PageParams, conflict, form_input, paginate, validated

router = Router(tags=["validation"])


class JobOut(Schema):
    id: int
    tenant: str = Field(alias="tenant.slug")
    filename: str
    source: str = Field(description="file or paste")
    status: str = Field(description="new, running, done or failed")
    total: int = Field(description="Addresses (data rows) in the upload")
    done: int = Field(description="Rows with a verdict so far")
    progress: float = Field(description="done / total, 0 to 1")
    counts: dict = Field(description="Verdicts so far: by status, by reason code, DNS lookups")
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result_url: str | None = Field(description="The result CSV, once the job is done")

    @staticmethod
    def resolve_progress(obj: ValidationJob) -> float:
        return obj.done / obj.total if obj.total else 0.0

    @staticmethod
    def resolve_result_url(obj: ValidationJob, context: dict) -> str | None:
        if obj.status != ValidationJob.Status.DONE:
            return None
        return context["request"].build_absolute_uri(f"/api/v1/validation/jobs/{obj.pk}/result")


class Filters(Schema):
    tenant: int | None = Field(None, description="Tenant id (operators)")


@router.get("/validation/jobs", response=Page[JobOut], summary="Validation jobs, newest first")
def validation_job_list(request: HttpRequest, filters: Query[Filters], page: Query[PageParams]) -> dict:
    return paginate(request, validation_jobs_for(request, tenant_id=filters.tenant), page)


def _create(request: HttpRequest, form: ValidationUploadForm) -> Status:
    validated(form)
    tenant = form.acting_tenant()
    assert form.parsed is not None
    job = services.validation_job_create(tenant=tenant, upload=form.parsed, by=request.user)
    validation_job_enqueue(job.pk)
    return Status(201, validation_jobs_for(request).get(pk=job.pk))


class PasteIn(Schema):
    addresses: list[str] = Field(description="The addresses to check")
    tenant: int | None = Field(None, description="Tenant id (operators; tenant admins check for their own)")


@router.post(
    "/validation/jobs", response={201: JobOut}, summary="Check a list of addresses (a background job)"
)
def validation_job_create(request: HttpRequest, payload: PasteIn) -> Status:
    require_writer(request)
    data = form_input({"addresses": "\n".join(payload.addresses), "tenant": payload.tenant})
    return _create(request, ValidationUploadForm(data, request=request))


@router.post(
    "/validation/jobs/upload",
    response={201: JobOut},
    summary="Check a CSV file of addresses (multipart: file, and tenant for operators)",
)
def validation_job_upload(
    request: HttpRequest, file: File[UploadedFile], tenant: Form[int | None] = None
) -> Status:
    require_writer(request)
    form = ValidationUploadForm(form_input({"tenant": tenant}), {"file": file}, request=request)
    return _create(request, form)


class ReasonOut(Schema):
    code: str
    status: str
    label: str


@router.get("/validation/reasons", response=list[ReasonOut], summary="What each verdict's reason code means")
def validation_reason_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"code": code, "status": status, "label": label} for code, (status, label) in rules.REASONS.items()
    ]


@router.get("/validation/jobs/{int:job_id}", response=JobOut, summary="A job's progress and verdict counts")
def validation_job_detail(request: HttpRequest, job_id: int) -> ValidationJob:
    return get_validation_job_for_user(request, job_id)


@router.get(
    "/validation/jobs/{int:job_id}/result",
    response={200: None},
    summary="The result CSV (every input row with its status and reason), once the job is done",
)
def validation_job_result(request: HttpRequest, job_id: int) -> HttpResponseBase:
    job = get_validation_job_for_user(request, job_id)
    if job.status != ValidationJob.Status.DONE:
        raise conflict(f"The result is ready when the check is done (this job is {job.status}).")
    return views.validation_download(request, job_id)
