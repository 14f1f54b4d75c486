"""Warmup workflows: assigning plans, the daily ramp, operator actions.

Limits reach IPs only through ips.services."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count

from campaigns.accounting.classify import SOFT_BOUNCE, TRANSIENT
from campaigns.models import DailyStat, DeliveryEvent
from campaigns.stats import Counts, block_categories, block_q, sums
from core.audit import Author, audit_bulk, audit_record, author_parts
from core.bulk import bulk_insert_values, bulk_update_values
from core.dates import utc_today
from ips.models import IPAddress, IPPool, IPStatus
from ips.services import LimitChange, ip_set_limits, ip_set_status, ips_set_limits_bulk, ips_set_status_bulk
from reputation.models import Listing
from reputation.providers.snds import latest_by_ip
from warmup import decide as d
from warmup.models import (
    PLAN_THRESHOLDS,
    PROVIDER_DOMAINS,
    IPWarmup,
    ReplyRule,
    ReplyRuleAction,
    WarmupDecision,
    WarmupPlan,
    WarmupStep,
)
from warmup.presets import PRESETS

RAMP = "system: warmup ramp"


class WarmupError(ValueError):
    pass


# --- plans ---------------------------------------------------------------------------------------------


@transaction.atomic
def plans_install_presets() -> int:
    """Create the shipped presets that are missing; idempotent (used by a data migration and seed_demo)."""
    created = 0
    for preset in PRESETS:
        plan, new = WarmupPlan.objects.get_or_create(
            preset_key=preset.key, defaults={"name": preset.name, "description": preset.description}
        )
        if not new:
            continue
        created += 1
        WarmupStep.objects.bulk_create(
            WarmupStep(
                plan=plan,
                position=i,
                daily_limit=s.daily,
                hourly_limit=s.hourly,
                gmail_daily=s.providers.get("gmail"),
                microsoft_daily=s.providers.get("microsoft"),
                yahoo_daily=s.providers.get("yahoo"),
            )
            for i, s in enumerate(preset.steps, start=1)
        )
    return created


@transaction.atomic
def plan_copy(*, plan: WarmupPlan, name: str, by: Author) -> WarmupPlan:
    fields = {f: getattr(plan, f) for f in PLAN_THRESHOLDS}
    copy = WarmupPlan.objects.create(name=name, description=plan.description, **fields)
    WarmupStep.objects.bulk_create(
        WarmupStep(
            plan=copy,
            position=s.position,
            daily_limit=s.daily_limit,
            hourly_limit=s.hourly_limit,
            gmail_daily=s.gmail_daily,
            microsoft_daily=s.microsoft_daily,
            yahoo_daily=s.yahoo_daily,
        )
        for s in plan.steps.all()
    )
    audit_record(action="warmup.plan_copy", by=by, obj=copy, after={"from": plan.name, "name": name})
    return copy


@transaction.atomic
def plan_update(
    *,
    plan: WarmupPlan,
    by: Author,
    thresholds: dict[str, float],
    steps: list[dict[str, int | None]],
    **fields: str,
) -> WarmupPlan:
    """Edit an operator's plan (presets are read-only: copy them first)."""
    if plan.is_preset:
        raise WarmupError("Shipped presets are read-only; copy the plan to edit it.")
    if not steps:
        raise WarmupError("A plan needs at least one step.")
    before = {**{f: getattr(plan, f) for f in thresholds}, "steps": plan.steps.count()}
    for name, value in {**thresholds, **fields}.items():
        setattr(plan, name, value)
    plan.save()
    plan.steps.all().delete()
    WarmupStep.objects.bulk_create(
        WarmupStep(plan=plan, position=i, **s) for i, s in enumerate(steps, start=1)
    )
    after = {**thresholds, "steps": len(steps)}
    audit_record(action="warmup.plan_update", by=by, obj=plan, before=before, after=after)
    return plan


# --- per IP --------------------------------------------------------------------------------------------


REASON_MAX = 1000


def next_provider_state(
    state: dict[str, dict], actions: dict[str, str], *, old_step: int, new_step: int
) -> dict[str, dict]:
    """Where each provider judged on its own stands after a decision (see IPWarmup.provider_state).

    A blocked provider holds its step, steps back or pauses while the IP moves on; once clean again it
    resumes at the step it stopped on and climbs one step a day until it meets the IP's step: a provider
    that blocked is never handed the IP's full volume at once.
    """
    out: dict[str, dict] = {}
    for provider in sorted(set(state) | set(actions)):
        current = state.get(provider, {})
        at = min(int(current.get("step", old_step)), new_step)
        action = actions.get(provider, d.OK)
        if action == d.HOLD:
            out[provider] = {"step": at, "action": d.HOLD}
        elif action == d.STEP_BACK:
            out[provider] = {"step": max(1, at - 1), "action": d.STEP_BACK}
        elif action == d.PAUSE:
            out[provider] = {"step": at, "action": d.PAUSE}
        elif current:
            # Clean (or no traffic: a paused provider has none): resume where it stopped, then one step a day.
            nxt = at if current.get("action") == d.PAUSE else at + 1
            if nxt < new_step:
                out[provider] = {"step": nxt, "action": "resume"}
    return out


def _state_text(state: dict[str, dict]) -> str:
    return ", ".join(
        f"{p} {v['action'].replace('_', ' ')} at step {v['step']}" for p, v in sorted(state.items())
    )


def limits_for(
    warmup: IPWarmup, steps: dict[tuple[int, int], WarmupStep], factor: float = 1.0
) -> tuple[int, int, dict[str, dict[str, int]]]:
    """The IP's limits at its step, with each provider in ``provider_state`` at its own step (0 if paused)."""
    daily, hourly, providers = _step_limits(steps[(warmup.plan_id, warmup.step)], factor)
    # Keyed by provider group (ips ProviderGroup name): PMTA caps the provider's domains as one queue.
    for provider, st in warmup.provider_state.items():
        if st.get("action") == d.PAUSE:
            providers[provider] = {"daily": 0, "hourly": 0}
            continue
        own = steps.get((warmup.plan_id, int(st.get("step", warmup.step))))
        if own is None:
            continue
        _, own_hourly, own_providers = _step_limits(own, factor)
        # A step without a provider cap: the provider gets that step's hourly cap of its own.
        providers[provider] = own_providers.get(provider) or {"daily": own.daily_limit, "hourly": own_hourly}
    return daily, hourly, providers


def _step_limits(step: WarmupStep, factor: float = 1.0) -> tuple[int, int, dict[str, dict[str, int]]]:
    providers = step.provider_limits()
    if factor != 1.0:
        providers = {
            dom: {k: max(1, int(v * factor)) for k, v in lim.items()} for dom, lim in providers.items()
        }
    return max(1, int(step.daily_limit * factor)), max(1, int(step.hourly_limit * factor)), providers


@transaction.atomic
def warmup_assign(*, ip: IPAddress, plan: WarmupPlan, by: Author, start_on: date | None = None) -> IPWarmup:
    """Put an IP on a plan at step 1: it becomes "warming" and gets step 1's limits."""
    first = plan.steps.order_by("position").first()
    if first is None:
        raise WarmupError(f"Plan {plan.name} has no steps.")
    if ip.status == IPStatus.RETIRED:
        raise WarmupError(f"{ip.address} is retired.")
    start_on = start_on or utc_today()
    warmup, _ = IPWarmup.objects.update_or_create(
        ip=ip,
        defaults={
            "plan": plan,
            "step": 1,
            "status": IPWarmup.Status.RUNNING,
            "started_on": start_on,
            "last_decision_on": None,
            "completed_on": None,
            "last_reason": "plan assigned",
            "provider_state": {},
            "over_limit": False,
        },
    )
    if ip.status != IPStatus.WARMING:
        ip_set_status(ip=ip, to=IPStatus.WARMING, by=by, reason=f"warmup on {plan.name}")
    daily, hourly, providers = _step_limits(first)
    ip_set_limits(
        ip=ip, by=by, daily=daily, hourly=hourly, per_provider=providers, reason=f"{plan.name} step 1"
    )
    audit_record(action="warmup.assign", by=by, obj=ip, after={"plan": plan.name, "step": 1})
    return warmup


@transaction.atomic
def warmup_assign_pool(*, pool: IPPool, plan: WarmupPlan, by: Author) -> int:
    """Start every new IP of a pool on a plan (the usual first step after a bulk add): all or none."""
    started = 0
    for ip in pool.ips.filter(status=IPStatus.NEW).select_related("pool__tenant").order_by("address"):
        warmup_assign(ip=ip, plan=plan, by=by)
        started += 1
    return started


def _record_manual(warmup: IPWarmup, action: str, to_step: int, reason: str, by: Author) -> None:
    step = warmup.plan.steps.filter(position=to_step).first()
    WarmupDecision.objects.create(
        warmup=warmup,
        day=utc_today(),
        action=action,
        from_step=warmup.step,
        to_step=to_step,
        daily_limit=step.daily_limit if step else None,
        reason=reason,
        by=author_parts(by)[1],
    )


@transaction.atomic
def warmup_hold(*, warmup: IPWarmup, by: Author, reason: str) -> IPWarmup:
    """Stop the ramp from moving this IP (it keeps sending at its current step)."""
    if warmup.status != IPWarmup.Status.RUNNING:
        raise WarmupError(f"Only a running warmup can be held (this one is {warmup.status}).")
    _record_manual(warmup, "hold", warmup.step, reason or "held by operator", by)
    warmup.status = IPWarmup.Status.HELD
    warmup.last_reason = reason or "held by operator"
    warmup.save(update_fields=["status", "last_reason"])
    audit_record(action="warmup.hold", by=by, obj=warmup.ip, after={"status": "held"}, reason=reason)
    return warmup


@transaction.atomic
def warmup_resume(*, warmup: IPWarmup, by: Author, reason: str = "") -> IPWarmup:
    if warmup.status not in (IPWarmup.Status.HELD, IPWarmup.Status.PAUSED):
        raise WarmupError(f"Only a held or paused warmup can be resumed (this one is {warmup.status}).")
    ip = warmup.ip
    if ip.status == IPStatus.PAUSED:
        ip_set_status(ip=ip, to=IPStatus.WARMING, by=by, reason=reason or "warmup resumed")
    _record_manual(warmup, "resume", warmup.step, reason or "resumed by operator", by)
    before = warmup.status
    warmup.status = IPWarmup.Status.RUNNING
    warmup.last_reason = reason or "resumed by operator"
    warmup.save(update_fields=["status", "last_reason"])
    audit_record(
        action="warmup.resume", by=by, obj=ip, before={"status": before}, after={"status": "running"}
    )
    return warmup


@transaction.atomic
def warmup_move(*, warmup: IPWarmup, by: Author, delta: int, reason: str = "") -> IPWarmup:
    """Skip a step (+1) or step back (-1) by hand; writes the new step's limits."""
    steps = {s.position: s for s in warmup.plan.steps.all()}
    target = warmup.step + delta
    if target < 1 or target not in steps:
        raise WarmupError(f"There is no step {target} in {warmup.plan.name}.")
    if warmup.status == IPWarmup.Status.COMPLETED:
        raise WarmupError("This warmup is complete.")
    action = "skip" if delta > 0 else "step_back"
    why = reason or ("step skipped by operator" if delta > 0 else "stepped back by operator")
    _record_manual(warmup, action, target, why, by)
    before = warmup.step
    warmup.step = target
    warmup.last_reason = why
    warmup.save(update_fields=["step", "last_reason"])
    daily, hourly, providers = _step_limits(steps[target])
    ip_set_limits(
        ip=warmup.ip,
        by=by,
        daily=daily,
        hourly=hourly,
        per_provider=providers,
        reason=f"{action} to {target}",
    )
    audit_record(
        action=f"warmup.{action}", by=by, obj=warmup.ip, before={"step": before}, after={"step": target}
    )
    return warmup


# --- the daily ramp ------------------------------------------------------------------------------------


@dataclass
class RampOutcome:
    ip: str
    plan: str
    action: str
    from_step: int
    to_step: int
    daily_limit: int | None
    reason: str
    numbers: dict = field(default_factory=dict)
    applied: bool = True

    def as_dict(self) -> dict:
        return self.__dict__.copy()


_DOMAIN_PROVIDER = {domain: provider for provider, domains in PROVIDER_DOMAINS.items() for domain in domains}


def provider_key(domain: str) -> str:
    """The warmup provider (gmail, microsoft, yahoo) of a recipient domain, or "" for the rest."""
    return _DOMAIN_PROVIDER.get(domain.strip().lower(), "")


def _signals_for(day: date, addresses: list[str]) -> dict[str, d.Signals]:
    """Per IP: the day's campaigns.stats counts, whole and per provider.

    Blocks come from the events when they are still kept (category or x.7.x code: campaigns.stats.is_block);
    the daily aggregates only know categories, so they are the floor.
    """
    whole: dict[str, Counts] = {}
    providers: dict[str, dict[str, Counts]] = {}
    rows = (
        DailyStat.objects.filter(day=day, source_ip__in=addresses)
        .order_by()
        .values("source_ip", "rcpt_domain")
        .annotate(**sums(DailyStat))
    )
    for r in rows:
        counts = Counts.from_row(r)
        whole.setdefault(r["source_ip"], Counts()).add(counts)
        provider = provider_key(r["rcpt_domain"])
        if provider:
            providers.setdefault(r["source_ip"], {}).setdefault(provider, Counts()).add(counts)
    for (address, domain, outcome), n in event_blocks(day=day, addresses=addresses).items():
        provider = provider_key(domain)
        targets = [whole.setdefault(address, Counts())]
        if provider:
            targets.append(providers.setdefault(address, {}).setdefault(provider, Counts()))
        for target in targets:
            name = "blocked" if outcome == SOFT_BOUNCE else "blocked_deferrals"
            setattr(target, name, getattr(target, name) + n)
    # Events of a kept day are the full truth; aggregates (categories only) stay as the floor.
    for address, counts in whole.items():
        counts.blocked = min(counts.blocked, counts.soft_bounces)
        for pc in providers.get(address, {}).values():
            pc.blocked = min(pc.blocked, pc.soft_bounces)
    reports = snds_reports(day=day, addresses=addresses)
    return {
        address: d.Signals(
            counts=whole.get(address, Counts()),
            providers=providers.get(address, {}),
            provider_reports=reports.get(address, {}),
        )
        for address in set(whole) | set(reports)
    }


def snds_reports(*, day: date, addresses: list[str]) -> dict[str, dict[str, tuple[str, str]]]:
    """Microsoft's own verdict per IP (SNDS filter result): RED pauses Microsoft on the IP, YELLOW holds."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for address, row in latest_by_ip(addresses, day).items():
        action = {"RED": d.PAUSE, "YELLOW": d.HOLD}.get(row.filter_result)
        if action:
            why = (
                f"SNDS {row.filter_result} for {row.day:%Y-%m-%d} "
                f"(complaint rate {row.complaint_rate_text or '?'}, trap hits {row.trap_hits}, "
                f"{row.recipients:,} recipients)"
            )
            found[address] = {"microsoft": (action, why)}
    return found


def event_blocks(*, day: date, addresses: list[str]) -> dict[tuple[str, str, str], int]:
    """(ip, recipient domain, soft_bounce|transient) -> blocks not already counted by category."""
    lo = datetime.combine(day, time.min, UTC)
    hi = lo + timedelta(days=1)
    rows = (
        DeliveryEvent.objects.filter(
            time_logged__gte=lo,
            time_logged__lt=hi,
            source_ip__in=addresses,
            outcome__in=(SOFT_BOUNCE, TRANSIENT),
        )
        .filter(block_q())
        .exclude(bounce_cat__in=sorted(block_categories()))
        .order_by()
        .values_list("source_ip", "rcpt_domain", "outcome")
        .annotate(n=Count("id"))
    )
    return {(ip, domain.lower(), outcome): n for ip, domain, outcome, n in rows}


def _critical_listings(ip_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    # The same rule as a sweep's hold (reputation.models.Blocklist.can_hold): a critical list's listing of
    # the IP itself; not a /24 or ASN listing, not a reputation grade, not a list whose breaker tripped.
    rows = Listing.objects.filter(
        ip_id__in=ip_ids,
        cleared_at__isnull=True,
        blocklist__severity="critical",
        blocklist__scope="ip",
        blocklist__reputation=False,
        blocklist__breaker_tripped_at__isnull=True,
    ).values_list("ip_id", "blocklist__name")
    for ip_id, name in rows:
        found.setdefault(ip_id, []).append(name)
    return found


def _halving(ip_ids: list[int]) -> set[int]:
    return set(
        ReplyRuleAction.objects.filter(ip_id__in=ip_ids, ended_at__isnull=True, action="halve").values_list(
            "ip_id", flat=True
        )
    )


def warmup_run_ramp(*, day: date, dry_run: bool = False) -> list[RampOutcome]:
    """Decide every running warmup for `day` from the day before's numbers, in a constant number of queries.

    Idempotent: a warmup that already has the ramp's decision for `day` is left alone.
    """
    warmups = list(
        IPWarmup.objects.filter(status=IPWarmup.Status.RUNNING, ip__status=IPStatus.WARMING)
        .select_related("ip__pool__tenant", "plan")
        .order_by("ip__address")
    )
    done = set(
        WarmupDecision.objects.filter(day=day, by=RAMP, warmup__in=[w.pk for w in warmups]).values_list(
            "warmup_id", flat=True
        )
    )
    warmups = [w for w in warmups if w.pk not in done]
    if not warmups:
        return []
    steps: dict[tuple[int, int], WarmupStep] = {}
    step_counts: dict[int, int] = {}
    for s in WarmupStep.objects.filter(plan_id__in={w.plan_id for w in warmups}):
        steps[(s.plan_id, s.position)] = s
        step_counts[s.plan_id] = max(step_counts.get(s.plan_id, 0), s.position)
    signals = _signals_for(day - timedelta(days=1), [w.ip.address for w in warmups])
    listings = _critical_listings([w.ip_id for w in warmups])
    halved = _halving([w.ip_id for w in warmups])

    status_changes: list[tuple[IPAddress, str, str]]
    outcomes, decisions, limit_changes, status_changes, events = [], [], [], [], []
    for w in warmups:
        step = steps.get((w.plan_id, w.step))
        if step is None:
            continue
        sig = signals.get(w.ip.address, d.Signals())
        if w.ip_id in listings:
            sig = replace(sig, critical_listings=tuple(listings[w.ip_id]))
        decision = d.decide(
            step=w.step,
            step_count=step_counts[w.plan_id],
            daily_limit=step.daily_limit,
            signals=sig,
            t=w.plan.thresholds(),
        )
        new_step = steps[(w.plan_id, decision.to_step)]
        outcomes.append(
            RampOutcome(
                ip=w.ip.address,
                plan=w.plan.name,
                action=decision.action,
                from_step=w.step,
                to_step=decision.to_step,
                daily_limit=new_step.daily_limit,
                reason=decision.reason,
                numbers=decision.numbers,
                applied=not dry_run,
            )
        )
        decisions.append(
            WarmupDecision(
                warmup=w,
                day=day,
                action=decision.action,
                from_step=w.step,
                to_step=decision.to_step,
                daily_limit=new_step.daily_limit,
                reason=decision.reason[:REASON_MAX],
                numbers=decision.numbers,
                by=RAMP,
            )
        )
        events.append(
            {
                "action": "warmup.decision",
                "by": RAMP,
                "obj": w.ip,
                "tenant": w.ip.pool.tenant if w.ip.pool else None,
                "before": {"step": w.step},
                "after": {"step": decision.to_step, "decision": decision.action},
                "reason": decision.reason,
            }
        )
        w.last_decision_on, w.last_reason = day, decision.reason[:REASON_MAX]
        w.over_limit = decision.action == d.OVER_LIMIT
        if decision.action == d.PAUSE:
            w.status = IPWarmup.Status.PAUSED
            status_changes.append((w.ip, IPStatus.PAUSED, f"warmup: {decision.reason}"))
        elif decision.action == d.COMPLETE:
            w.status, w.completed_on, w.provider_state = IPWarmup.Status.COMPLETED, day, {}
            status_changes.append((w.ip, IPStatus.ACTIVE, "warmup complete"))
            limit_changes.append(LimitChange(w.ip, None, None, {}, "warmup complete: plan limits lifted"))
        else:
            old_step, old_state = w.step, w.provider_state
            w.step = decision.to_step
            w.provider_state = next_provider_state(
                old_state, decision.provider_actions, old_step=old_step, new_step=w.step
            )
            if w.step != old_step or w.provider_state != old_state:
                factor = 0.5 if w.ip_id in halved else 1.0
                daily, hourly, providers = limits_for(w, steps, factor)
                why = f"{w.plan.name} step {w.step}" + (
                    f" ({_state_text(w.provider_state)})" if w.provider_state else ""
                )
                limit_changes.append(LimitChange(w.ip, daily, hourly, providers, why))
    if dry_run:
        return outcomes
    with transaction.atomic():
        bulk_insert_values(decisions)
        bulk_update_values(
            warmups,
            [
                "step",
                "status",
                "last_decision_on",
                "last_reason",
                "completed_on",
                "provider_state",
                "over_limit",
            ],
        )
        ips_set_limits_bulk(changes=limit_changes, by=RAMP)
        ips_set_status_bulk(changes=status_changes, by=RAMP)
        audit_bulk(events)
    return outcomes


# --- reply rules ---------------------------------------------------------------------------------------

RULE_FIELDS = [
    "name",
    "pattern",
    "provider",
    "threshold",
    "window_minutes",
    "action",
    "duration_hours",
    "slow_factor",
    "backoff_max_per_hour",
    "backoff_to_normal_minutes",
    "source",
    "enabled",
]


def reply_rules_install_presets() -> int:
    """Create the shipped starter rules that are missing (by preset key or name); idempotent."""
    from warmup.reply_presets import REPLY_PRESETS

    created = 0
    for preset in REPLY_PRESETS:
        if (
            ReplyRule.objects.filter(preset_key=preset.key).exists()
            or ReplyRule.objects.filter(name=preset.name).exists()
        ):
            continue
        ReplyRule.objects.create(
            name=preset.name,
            pattern=preset.pattern,
            provider=preset.provider,
            threshold=preset.threshold,
            window_minutes=preset.window_minutes,
            action=ReplyRule.Action.LADDER,
            duration_hours=preset.duration_hours,
            slow_factor=preset.slow_factor,
            backoff_max_per_hour=preset.backoff_max_per_hour,
            backoff_to_normal_minutes=preset.backoff_to_normal_minutes,
            source=preset.source,
            preset_key=preset.key,
        )
        created += 1
    return created


@transaction.atomic
def rule_save(*, rule: ReplyRule, by: Author, before: dict | None = None) -> ReplyRule:
    """Create or update a reply rule (the form has set its fields)."""
    created = rule.pk is None
    rule.save()
    after = {f: getattr(rule, f) for f in RULE_FIELDS}
    audit_record(
        action="reply_rule.create" if created else "reply_rule.update",
        by=by,
        obj=rule,
        before=before,
        after=after,
    )
    return rule


@transaction.atomic
def rule_delete(*, rule: ReplyRule, by: Author) -> None:
    audit_record(
        action="reply_rule.delete", by=by, obj=rule, before={f: getattr(rule, f) for f in RULE_FIELDS}
    )
    rule.delete()
