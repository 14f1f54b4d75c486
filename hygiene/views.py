"""List hygiene pages: upload a list, watch its progress, read the summary, download the result."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.datastructures import MultiValueDict
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET, require_http_methods

from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from hygiene import rules
from hygiene.access import get_validation_job_for_user
from hygiene.forms import ValidationUploadForm
from hygiene.models import ValidationJob
from hygiene.selectors import validation_jobs_for
from hygiene.services import (
    max_upload_bytes,
    stale_minutes,
    validation_job_create,
    validation_result_rows,
)
from hygiene.tasks import validation_job_enqueue
from tenants.access import actor_for, require_writer
from tenants.models import Tenant

PROGRESS_TARGET = "validation-progress"


def _context_common() -> dict:
    return {
        "disposable_source": rules.DISPOSABLE_SOURCE,
        "disposable_package": rules.DISPOSABLE_PACKAGE,
        "max_mb": max_upload_bytes() // (1024 * 1024),
        "reason_table": [(code, status, label) for code, (status, label) in rules.REASONS.items()],
    }


@require_http_methods(["GET", "POST"])
def validation_list(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request)
    form = None
    if request.method == "POST":
        require_writer(request)
        try:
            data, files = request.POST, request.FILES
        except RequestDataTooBig:
            # Only pasted text counts towards DATA_UPLOAD_MAX_MEMORY_SIZE (file parts do not).
            data, files = QueryDict(), MultiValueDict()
            too_big = "The pasted text is too large for a form; save it as a .csv file and upload that."
        else:
            too_big = ""
        form = ValidationUploadForm(data, files, request=request)
        if too_big:
            form.is_valid()
            form.errors.clear()
            form.add_error(None, too_big)
        elif form.is_valid() and form.parsed is not None:
            tenant = form.acting_tenant()
            job = validation_job_create(tenant=tenant, upload=form.parsed, by=request.user)
            if validation_job_enqueue(job.pk).sent is False:
                messages.warning(
                    request,
                    f"{job.filename} is saved ({job.total} addresses), but the job queue is unreachable "
                    f"right now. The check starts by itself within {stale_minutes()} minutes of it coming "
                    "back; nothing needs to be uploaded again.",
                )
            else:
                messages.success(request, f"Checking {job.total} addresses from {job.filename}.")
            return redirect("validation_detail", job_id=job.pk)
    elif actor.can_manage_tenant_data:
        form = ValidationUploadForm(request=request)
    tenant_id = None
    tenants = None
    if actor.is_operator:
        tenants = Tenant.objects.order_by("name").only("pk", "name")
        tenant_id = int(request.GET["tenant"]) if request.GET.get("tenant", "").isdigit() else None
    context = {
        **_context_common(),
        "form": form,
        "page": paginate(request, validation_jobs_for(request, tenant_id=tenant_id)),
        "qs": query_without_page(request),
        "tenants": tenants,
        "tenant_id": tenant_id,
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "hygiene/job_list.html", context, status=status)


def _summary(job: ValidationJob) -> dict:
    counts = job.counts or {}
    by_status = counts.get("status", {})
    by_reason = counts.get("reason", {})
    return {
        "statuses": [(s, rules.STATUS_LABELS[s], by_status.get(s, 0)) for s in rules.STATUSES],
        "reasons": [
            (code, status, label, by_reason.get(code, 0))
            for code, (status, label) in rules.REASONS.items()
            if by_reason.get(code, 0)
        ],
        "dns": counts.get("dns", {}),
    }


@require_GET
def validation_detail(request: HtmxRequest, job_id: int) -> HttpResponse:
    job = get_validation_job_for_user(request, job_id)
    context = {**_context_common(), "job": job, **_summary(job)}
    template = "hygiene/job_detail.html"
    if request.htmx and request.htmx.target == PROGRESS_TARGET:
        template += "#progress"
    return render(request, template, context)


@require_GET
def validation_download(request: HttpRequest, job_id: int) -> HttpResponse | StreamingHttpResponse:
    job = get_validation_job_for_user(request, job_id)
    if job.status != ValidationJob.Status.DONE:
        messages.info(request, "The result file is ready when the check is done.")
        return redirect("validation_detail", job_id=job.pk)
    stem = job.filename.rsplit(".", 1)[0] if "." in job.filename else job.filename
    name = get_valid_filename(f"{stem or 'addresses'}-checked-{job.pk}.csv")
    response = StreamingHttpResponse(validation_result_rows(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
