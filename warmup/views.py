from django.contrib import messages
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaigns.stats import Counts
from core.dates import utc_today
from core.http import HtmxRequest
from core.paging import paginate, query_without_page
from ips.access import get_ip_for_user
from ips.models import IPPool
from tenants.access import require_operator
from warmup import charts, selectors, services
from warmup.access import get_warmup_for_user
from warmup.forms import ActionForm, AssignPlanForm, CopyPlanForm, PlanEditForm, ReplyRuleForm
from warmup.models import IPWarmup, ReplyRule, ReplyRuleAction, WarmupPlan, WarmupStep
from warmup.pmta_backoff import backoff_fragment
from warmup.presets import days_to_reach
from warmup.services import WarmupError


def _rows(warmups: list[IPWarmup]) -> list[dict]:
    counts = selectors.step_counts({w.plan_id for w in warmups})
    today = selectors.counts_on(utc_today(), [w.ip.address for w in warmups])
    rows = []
    for w in warmups:
        limit = w.ip.daily_limit
        c = today.get(w.ip.address) or Counts()
        rows.append(
            {
                "w": w,
                "steps": counts.get(w.plan_id, 0),
                "counts": c,
                "sent": c.attempted,
                "limit": limit,
                "progress_max": limit or max(c.attempted, 1),
                # Today's attempts past the cap, or yesterday's decision found it: the cap is not enforced.
                "over_limit": selectors.is_over_limit(c.attempted, limit) or w.over_limit,
            }
        )
    return rows


def board(request: HttpRequest) -> HttpResponse:
    qs = selectors.warmups_for(request)
    status = request.GET.get("status", "active")
    if status == "active":
        qs = qs.exclude(status=IPWarmup.Status.COMPLETED)
    elif status in IPWarmup.Status.values:
        qs = qs.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(ip__address__icontains=q) | Q(plan__name__icontains=q) | Q(ip__pool__name__icontains=q)
        )
    page = paginate(request, qs.order_by("ip__address"))
    rows = _rows(list(page.object_list))
    context = {
        "page": page,
        "rows": rows,
        "q": q,
        "status": status,
        "statuses": IPWarmup.Status.choices,
        "qs": query_without_page(request),
    }
    return render(request, "warmup/board.html", context)


@require_POST
def warmup_action(request: HtmxRequest, warmup_id: int) -> HttpResponse:
    warmup = get_warmup_for_user(request, warmup_id, write=True)
    form = ActionForm(request.POST)
    error = ""
    if form.is_valid():
        action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
        try:
            if action == "hold":
                services.warmup_hold(warmup=warmup, by=request.user, reason=reason)
            elif action == "resume":
                services.warmup_resume(warmup=warmup, by=request.user, reason=reason)
            else:
                services.warmup_move(
                    warmup=warmup, by=request.user, delta=1 if action == "skip" else -1, reason=reason
                )
        except WarmupError as exc:
            error = str(exc)
    else:
        error = "Unknown action."
    warmup = get_warmup_for_user(request, warmup_id)
    if request.htmx:
        response = render(request, "warmup/board.html#row", {"row": _rows([warmup])[0], "error": error})
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{warmup.ip}: done.")
    return redirect(_local_next(request) or "warmup_board")


def _local_next(request: HttpRequest) -> str:
    """The form's ``next`` when it is a URL on this site, else "" (never an open redirect elsewhere)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def ip_warmup(request: HttpRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id)
    warmup = IPWarmup.objects.filter(ip=ip).select_related("plan").first()
    days = selectors.timeline(ip, days=30)
    context = {
        "ip": ip,
        "warmup": warmup,
        "chart": charts.timeline_chart(days),
        "decisions": warmup.decisions.all()[:60] if warmup else [],
        "actions": ReplyRuleAction.objects.filter(ip=ip).select_related("rule")[:20],
        "assign_form": AssignPlanForm(),
        "steps": warmup.plan.steps.count() if warmup else 0,
    }
    return render(request, "warmup/ip.html", context)


@require_POST
def ip_assign(request: HttpRequest, ip_id: int) -> HttpResponse:
    ip = get_ip_for_user(request, ip_id, write=True)
    form = AssignPlanForm(request.POST)
    if form.is_valid():
        try:
            services.warmup_assign(ip=ip, plan=form.cleaned_data["plan"], by=request.user)
            messages.success(request, f"{ip} now warms up on {form.cleaned_data['plan']}.")
        except WarmupError as exc:
            messages.error(request, str(exc))
    return redirect("warmup_ip", ip_id=ip.pk)


@require_POST
def pool_assign(request: HttpRequest, pool_id: int) -> HttpResponse:
    """Start every new IP of a pool on a plan at once (the usual first step after a bulk add)."""
    require_operator(request)
    pool = get_object_or_404(IPPool, pk=pool_id)
    form = AssignPlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a plan.")
        return redirect("warmup_board")
    try:
        started = services.warmup_assign_pool(pool=pool, plan=form.cleaned_data["plan"], by=request.user)
    except WarmupError as exc:
        messages.error(request, str(exc))
        return redirect("warmup_board")
    messages.success(request, f"{started} new IP(s) of {pool.name} started on {form.cleaned_data['plan']}.")
    return redirect("warmup_board")


def _count_per_plan(qs: QuerySet) -> Coalesce:
    rows = qs.filter(plan=OuterRef("pk")).order_by().values("plan").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows), Value(0))


def plan_list(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    # Counted in subqueries: joining steps and warmups together would multiply their rows (30 x 1,000).
    plans = WarmupPlan.objects.annotate(
        n_steps=_count_per_plan(WarmupStep.objects.all()),
        n_ips=_count_per_plan(IPWarmup.objects.exclude(status=IPWarmup.Status.COMPLETED)),
    )
    pools = IPPool.objects.select_related("tenant", "server")
    assign_form = AssignPlanForm()
    return render(
        request,
        "warmup/plan_list.html",
        {
            "plans": plans,
            "copy_form": CopyPlanForm(),
            "pools": pools,
            "assign_form": assign_form,
            # Rendered once: a choice field queries its choices on every render, i.e. once per pool.
            "plan_select": str(assign_form["plan"]),
        },
    )


def plan_detail(request: HtmxRequest, plan_id: int) -> HttpResponse:
    require_operator(request)
    plan = get_object_or_404(WarmupPlan, pk=plan_id)
    steps = list(plan.steps.all())
    limits = [s.daily_limit for s in steps]
    target = request.GET.get("target", "").replace(",", "").replace("_", "")
    preview = None
    if target.isdigit():
        preview = {"target": int(target), "days": days_to_reach(limits, int(target))}
    context = {
        "plan": plan,
        "steps": steps,
        "chart": charts.ramp_chart(limits),
        "preview": preview,
        "target": target,
        "signal": plan.thresholds(),
    }
    if request.htmx and "target" in request.GET:
        return render(request, "warmup/plan_detail.html#preview", context)
    return render(request, "warmup/plan_detail.html", context)


@require_POST
def plan_copy(request: HttpRequest, plan_id: int) -> HttpResponse:
    require_operator(request)
    plan = get_object_or_404(WarmupPlan, pk=plan_id)
    form = CopyPlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("warmup_plan_list")
    copy = services.plan_copy(plan=plan, name=form.cleaned_data["name"], by=request.user)
    messages.success(request, f"Copied to {copy.name}; edit it below.")
    return redirect("warmup_plan_edit", plan_id=copy.pk)


def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    require_operator(request)
    plan = get_object_or_404(WarmupPlan, pk=plan_id)
    if plan.is_preset:
        messages.error(request, "Shipped presets are read-only: copy the plan to edit it.")
        return redirect("warmup_plan_detail", plan_id=plan.pk)
    initial_steps = "\n".join(
        ", ".join(
            str(v) if v is not None else "-"
            for v in (s.daily_limit, s.hourly_limit, s.gmail_daily, s.microsoft_daily, s.yahoo_daily)
        )
        for s in plan.steps.all()
    )
    form = PlanEditForm(request.POST or None, instance=plan, initial={"steps_text": initial_steps})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        thresholds = {f: data[f] for f in form.Meta.fields if f not in ("name", "description")}
        services.plan_update(
            plan=plan,
            by=request.user,
            thresholds=thresholds,
            steps=data["steps_text"],
            name=data["name"],
            description=data["description"],
        )
        messages.success(request, "Plan saved.")
        return redirect("warmup_plan_detail", plan_id=plan.pk)
    return render(request, "warmup/plan_edit.html", {"plan": plan, "form": form})


def rule_list(request: HttpRequest) -> HttpResponse:
    require_operator(request)
    form = ReplyRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = services.rule_save(rule=form.save(commit=False), by=request.user)
        messages.success(request, f"Rule {rule.name} created.")
        return redirect("warmup_rule_list")
    rules = ReplyRule.objects.annotate(n_active=Count("actions", filter=Q(actions__ended_at__isnull=True)))
    active = ReplyRuleAction.objects.filter(ended_at__isnull=True).select_related("rule", "ip")
    context = {"rules": rules, "form": form, "active": active, "pmta_fragment": backoff_fragment()}
    return render(request, "warmup/rules.html", context)


def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    require_operator(request)
    rule = get_object_or_404(ReplyRule, pk=rule_id)
    before = {f: getattr(rule, f) for f in ReplyRuleForm.Meta.fields}
    form = ReplyRuleForm(request.POST or None, instance=rule)
    if request.method == "POST":
        if request.POST.get("delete"):
            services.rule_delete(rule=rule, by=request.user)
            messages.success(request, "Rule deleted.")
            return redirect("warmup_rule_list")
        if form.is_valid():
            services.rule_save(rule=form.save(commit=False), by=request.user, before=before)
            messages.success(request, "Rule saved.")
            return redirect("warmup_rule_list")
    return render(request, "warmup/rule_edit.html", {"rule": rule, "form": form})
