"""API routes for warmup: plans, assignments, per-IP state, decisions and reply rules.

The same access helpers, forms and services as warmup/views.py.
"""

from datetime import date, datetime
from typing import Literal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from core.access import scoped
from ips.access import get_ip_by_address_for_user
from tenants.access import actor_for, require_operator
from tenants.api_kit import Page, PageParams, conflict, form_input, paginate, validated
from warmup import selectors, services
from warmup.access import get_warmup_for_user
from warmup.forms import ActionForm, AssignPlanForm, CopyPlanForm, PlanEditForm, ReplyRuleForm
from warmup.models import IPWarmup, ReplyRule, ReplyRuleAction, WarmupDecision, WarmupPlan, WarmupStep

router = Router(tags=["warmup"])


def _count_per_plan(qs: QuerySet) -> Coalesce:
    rows = qs.filter(plan=OuterRef("pk")).order_by().values("plan").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows), Value(0))


# --- plans (operators) ---------------------------------------------------------------------------------


class StepOut(Schema):
    position: int
    daily_limit: int
    hourly_limit: int
    gmail_daily: int | None
    microsoft_daily: int | None
    yahoo_daily: int | None


class PlanOut(Schema):
    id: int
    name: str
    description: str
    preset_key: str
    is_preset: bool
    advance_min_ratio: float
    hold_bounce_rate: float
    hold_complaint_rate: float
    step_back_bounce_rate: float
    step_back_deferral_rate: float
    pause_bounce_rate: float
    pause_complaint_rate: float
    n_steps: int
    n_ips: int = Field(description="IPs warming on this plan now")


class PlanDetailOut(PlanOut):
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj: WarmupPlan) -> list[WarmupStep]:
        return list(obj.steps.all())


def _plans() -> QuerySet[WarmupPlan]:
    return WarmupPlan.objects.annotate(
        n_steps=_count_per_plan(WarmupStep.objects.all()),
        n_ips=_count_per_plan(IPWarmup.objects.exclude(status=IPWarmup.Status.COMPLETED)),
    ).order_by("name")


@router.get("/warmup/plans", response=Page[PlanOut], summary="Warmup plans (operators)")
def plan_list(request: HttpRequest, page: Query[PageParams]) -> dict:
    require_operator(request)
    return paginate(request, _plans(), page)


@router.get("/warmup/plans/{int:plan_id}", response=PlanDetailOut, summary="A plan with its steps")
def plan_detail(request: HttpRequest, plan_id: int) -> WarmupPlan:
    require_operator(request)
    return get_object_or_404(_plans(), pk=plan_id)


class PlanCopyIn(Schema):
    name: str


@router.post(
    "/warmup/plans/{int:plan_id}/copy", response={201: PlanDetailOut}, summary="Copy a plan to edit it"
)
def plan_copy(request: HttpRequest, plan_id: int, payload: PlanCopyIn) -> Status:
    require_operator(request)
    plan = get_object_or_404(WarmupPlan, pk=plan_id)
    d = validated(CopyPlanForm(form_input(payload.dict()))).cleaned_data
    copy = services.plan_copy(plan=plan, name=d["name"], by=request.user)
    return Status(201, _plans().get(pk=copy.pk))


class StepIn(Schema):
    daily_limit: int
    hourly_limit: int
    gmail_daily: int | None = None
    microsoft_daily: int | None = None
    yahoo_daily: int | None = None


class PlanUpdateIn(Schema):
    name: str | None = None
    description: str | None = None
    advance_min_ratio: float | None = None
    hold_bounce_rate: float | None = None
    hold_complaint_rate: float | None = None
    step_back_bounce_rate: float | None = None
    step_back_deferral_rate: float | None = None
    pause_bounce_rate: float | None = None
    pause_complaint_rate: float | None = None
    steps: list[StepIn] | None = Field(None, description="The whole ladder, replacing the current one")


def _steps_text(steps: list) -> str:
    fields = ("daily_limit", "hourly_limit", "gmail_daily", "microsoft_daily", "yahoo_daily")
    return "\n".join(
        ", ".join("-" if getattr(s, f) is None else str(getattr(s, f)) for f in fields) for s in steps
    )


@router.patch("/warmup/plans/{int:plan_id}", response=PlanDetailOut, summary="Edit a plan (not a preset)")
def plan_update(request: HttpRequest, plan_id: int, payload: PlanUpdateIn) -> WarmupPlan:
    require_operator(request)
    plan = get_object_or_404(WarmupPlan, pk=plan_id)
    if plan.is_preset:
        raise conflict("Shipped presets are read-only: copy the plan to edit it.")
    given = payload.dict(exclude_unset=True, exclude_none=True)
    steps = payload.steps if payload.steps is not None else list(plan.steps.all())
    given["steps_text"] = _steps_text(steps)
    current = {f: getattr(plan, f) for f in PlanEditForm.Meta.fields}
    data = form_input(current | {k: v for k, v in given.items() if k != "steps"})
    # Bound to the plan, as on its page: its own name is not "taken".
    form = validated(PlanEditForm(data, instance=WarmupPlan.objects.get(pk=plan.pk)))
    cleaned = form.cleaned_data
    services.plan_update(
        plan=WarmupPlan.objects.get(pk=plan.pk),
        by=request.user,
        thresholds={f: cleaned[f] for f in form.Meta.fields if f not in ("name", "description")},
        steps=cleaned["steps_text"],
        name=cleaned["name"],
        description=cleaned["description"],
    )
    return _plans().get(pk=plan.pk)


# --- assignments and per-IP state ----------------------------------------------------------------------


class WarmupOut(Schema):
    id: int
    ip: str = Field(alias="ip.address")
    pool: str | None = Field(None, alias="ip.pool.name")
    tenant: str | None = None
    plan_id: int
    plan: str = Field(alias="plan.name")
    step: int
    n_steps: int
    status: str
    started_on: date
    last_decision_on: date | None
    last_reason: str
    completed_on: date | None
    daily_limit: int | None = Field(None, alias="ip.daily_limit", description="The IP's limit today")

    @staticmethod
    def resolve_tenant(obj: IPWarmup) -> str | None:
        pool = obj.ip.pool
        return pool.tenant.slug if pool is not None and pool.tenant_id else None  # type: ignore[union-attr]


def _warmups(request: HttpRequest) -> QuerySet[IPWarmup]:
    steps = WarmupStep.objects.filter(plan=OuterRef("plan")).order_by().values("plan")
    return selectors.warmups_for(request).annotate(
        n_steps=Coalesce(Subquery(steps.annotate(n=Count("pk")).values("n")), Value(0))
    )


class WarmupFilters(Schema):
    status: Literal["active", "all", "running", "held", "paused", "completed"] = Field(
        "active", description="`active`: everything not completed"
    )
    q: str = Field("", description="Part of the IP, plan or pool name")


@router.get("/warmup/assignments", response=Page[WarmupOut], summary="IPs on a warmup plan")
def assignment_list(request: HttpRequest, filters: Query[WarmupFilters], page: Query[PageParams]) -> dict:
    qs = _warmups(request)
    if filters.status == "active":
        qs = qs.exclude(status=IPWarmup.Status.COMPLETED)
    elif filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(
            Q(ip__address__icontains=q) | Q(plan__name__icontains=q) | Q(ip__pool__name__icontains=q)
        )
    return paginate(request, qs.order_by("ip__address"), page)


class AssignIn(Schema):
    ip: str = Field(description="The IP address")
    plan: int = Field(description="Plan id")


@router.post(
    "/warmup/assignments",
    response={201: WarmupOut},
    summary="Start (or restart) an IP on a plan (operators)",
)
def assignment_create(request: HttpRequest, payload: AssignIn) -> Status:
    ip = get_ip_by_address_for_user(request, payload.ip, write=True)
    d = validated(AssignPlanForm(form_input({"plan": payload.plan}))).cleaned_data
    try:
        warmup = services.warmup_assign(ip=ip, plan=d["plan"], by=request.user)
    except services.WarmupError as exc:
        raise conflict(str(exc)) from None
    return Status(201, _warmups(request).get(pk=warmup.pk))


class DecisionOut(Schema):
    id: int
    ip: str = Field(alias="warmup.ip.address")
    day: date
    action: str
    from_step: int
    to_step: int
    daily_limit: int | None
    reason: str
    numbers: dict
    by: str
    created_at: datetime


class RuleActionOut(Schema):
    rule: str = Field(alias="rule.name")
    action: str
    provider: str
    stage: str = Field(description="slow, hold or resume (ladder rules)")
    matches: int
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None


class DayOut(Schema):
    day: str
    sent: int
    limit: int | None
    decision: str


class IPWarmupOut(Schema):
    ip: str
    warmup: WarmupOut | None
    decisions: list[DecisionOut]
    reply_rule_actions: list[RuleActionOut]
    days: list[DayOut] = Field(description="The last 30 days: sent, the limit that day, the decision")


@router.get("/warmup/ips/{address}", response=IPWarmupOut, summary="An IP's warmup state and history")
def ip_state(request: HttpRequest, address: str) -> dict:
    ip = get_ip_by_address_for_user(request, address)
    warmup = _warmups(request).filter(ip=ip).first()
    decisions = (
        WarmupDecision.objects.filter(warmup=warmup).select_related("warmup__ip")[:60] if warmup else []
    )
    return {
        "ip": ip.address,
        "warmup": warmup,
        "decisions": list(decisions),
        "reply_rule_actions": list(ReplyRuleAction.objects.filter(ip=ip).select_related("rule")[:20]),
        "days": [
            {"day": d, "sent": sent, "limit": limit, "decision": dec}
            for d, sent, limit, dec in selectors.timeline(ip, days=30)
        ],
    }


class ActionIn(Schema):
    action: Literal["hold", "resume", "skip", "back"]
    reason: str = Field("", max_length=300)


@router.post(
    "/warmup/ips/{address}/action",
    response=WarmupOut,
    summary="Hold, resume, skip a step or step back (operators)",
)
def ip_action(request: HttpRequest, address: str, payload: ActionIn) -> IPWarmup:
    ip = get_ip_by_address_for_user(request, address, write=True)
    pk = IPWarmup.objects.filter(ip=ip).values_list("pk", flat=True).first()
    if pk is None:
        raise conflict(f"{ip.address} is not on a warmup plan.")
    warmup = get_warmup_for_user(request, pk, write=True)
    d = validated(ActionForm(form_input(payload.dict()))).cleaned_data
    try:
        if d["action"] == "hold":
            services.warmup_hold(warmup=warmup, by=request.user, reason=d["reason"])
        elif d["action"] == "resume":
            services.warmup_resume(warmup=warmup, by=request.user, reason=d["reason"])
        else:
            delta = 1 if d["action"] == "skip" else -1
            services.warmup_move(warmup=warmup, by=request.user, delta=delta, reason=d["reason"])
    except services.WarmupError as exc:
        raise conflict(str(exc)) from None
    return _warmups(request).get(pk=pk)


class DecisionFilters(Schema):
    day: date | None = None
    ip: str = Field("", description="An IP address")
    action: str = Field("", description="advance, hold, step_back, pause, ...")


@router.get("/warmup/decisions", response=Page[DecisionOut], summary="The ramp's decisions, newest first")
def decision_list(request: HttpRequest, filters: Query[DecisionFilters], page: Query[PageParams]) -> dict:
    qs = scoped(
        actor_for(request),
        WarmupDecision.objects.select_related("warmup__ip"),
        tenant_field="warmup__ip__pool__tenant",
    )
    if filters.day:
        qs = qs.filter(day=filters.day)
    if filters.ip.strip():
        qs = qs.filter(warmup__ip__address=filters.ip.strip())
    if filters.action:
        qs = qs.filter(action=filters.action)
    return paginate(request, qs.order_by("-day", "-id"), page)


# --- reply rules (operators) ---------------------------------------------------------------------------


class RuleOut(Schema):
    id: int
    name: str
    pattern: str
    provider: str
    threshold: int
    window_minutes: int
    action: str
    duration_hours: int
    slow_factor: float
    backoff_max_per_hour: int | None
    backoff_to_normal_minutes: int
    source: str
    preset_key: str
    enabled: bool
    created_at: datetime
    n_active: int = Field(description="IPs this rule holds or halves right now")


class RuleIn(Schema):
    name: str
    pattern: str = Field(description="A regular expression on the diagnostic text, case-insensitive")
    provider: str = Field("", description="gmail, microsoft, yahoo, ... or empty for any")
    threshold: int = Field(10, description="Matches per IP (and provider) within the window")
    window_minutes: int = 60
    action: str = Field("ladder", description="ladder (slow, hold if it persists, resume), hold or halve")
    duration_hours: int = Field(4, description="How long each step lasts")
    slow_factor: float = Field(0.5, description="Share of the provider limit kept while slowed")
    backoff_max_per_hour: int | None = Field(None, description="PMTA backoff-max-msg-rate while in backoff")
    backoff_to_normal_minutes: int = 30
    source: str = Field("", description="The provider's own text this pattern matches")
    enabled: bool = True


class RuleUpdateIn(Schema):
    name: str | None = None
    pattern: str | None = None
    provider: str | None = None
    threshold: int | None = None
    window_minutes: int | None = None
    action: str | None = None
    duration_hours: int | None = None
    slow_factor: float | None = None
    backoff_max_per_hour: int | None = None
    backoff_to_normal_minutes: int | None = None
    source: str | None = None
    enabled: bool | None = None


def _rules() -> QuerySet[ReplyRule]:
    return ReplyRule.objects.annotate(
        n_active=Count("actions", filter=Q(actions__ended_at__isnull=True))
    ).order_by("name")


@router.get("/warmup/rules", response=Page[RuleOut], summary="Reply rules (operators)")
def rule_list(request: HttpRequest, page: Query[PageParams]) -> dict:
    require_operator(request)
    return paginate(request, _rules(), page)


@router.post("/warmup/rules", response={201: RuleOut}, summary="Add a reply rule")
def rule_create(request: HttpRequest, payload: RuleIn) -> Status:
    require_operator(request)
    form = validated(ReplyRuleForm(form_input(payload.dict())))
    rule = services.rule_save(rule=form.save(commit=False), by=request.user)
    return Status(201, _rules().get(pk=rule.pk))


@router.patch("/warmup/rules/{int:rule_id}", response=RuleOut, summary="Change a reply rule")
def rule_update(request: HttpRequest, rule_id: int, payload: RuleUpdateIn) -> ReplyRule:
    require_operator(request)
    rule = get_object_or_404(ReplyRule, pk=rule_id)
    before = {f: getattr(rule, f) for f in ReplyRuleForm.Meta.fields}
    data = form_input(before | payload.dict(exclude_unset=True, exclude_none=True))
    form = validated(ReplyRuleForm(data, instance=rule))
    services.rule_save(rule=form.save(commit=False), by=request.user, before=before)
    return _rules().get(pk=rule.pk)


@router.delete("/warmup/rules/{int:rule_id}", response={204: None}, summary="Delete a reply rule")
def rule_delete(request: HttpRequest, rule_id: int) -> Status:
    require_operator(request)
    services.rule_delete(rule=get_object_or_404(ReplyRule, pk=rule_id), by=request.user)
    return Status(204, None)
