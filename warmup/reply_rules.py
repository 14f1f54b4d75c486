"""Reply-driven traffic shaping per IP x provider: a burst of matching replies slows, then holds, then
gradually resumes that IP's traffic to that provider (the ladder); legacy rules hold or halve the whole IP.

The ladder, for one rule, one IP and the rule's provider:
1. ``threshold`` matches within ``window_minutes`` -> **slow**: the IP's limit for that provider drops to
   ``slow_factor`` of what it was, for ``duration_hours``. (PMTA has usually slowed the queue within
   seconds already: the same pattern is rendered into an ``<smtp-pattern-list>`` with ``mode=backoff``,
   warmup/pmta_backoff.py.)
2. the threshold is reached again *after* the slowdown began, while it lasts -> **hold**: that provider's
   limit on the IP becomes 0 (PMTA keeps the mail queued), for ``duration_hours``. Without a provider the
   whole IP is paused.
3. the hold ends -> **resume** at the slowed rate for ``duration_hours``, then the limits from before.
A trip while resuming goes back to hold. Every step is one audit event naming the count and the window.

Rules run after each committed import batch (warmup.tasks.reply_rules_check, enqueued on commit by
warmup.receivers), and look only at the batch's sending IPs within the batch's time range plus the
rule's window, through the (source_ip, time_logged) index of the day-partitioned event table: the cost
follows the batch, not the number of stored events.
"""

import contextlib
import logging
import re
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from campaigns.accounting.classify import FAILURES
from campaigns.models import DeliveryEvent
from core.audit import audit_record
from ips.models import IPAddress, IPStatus
from ips.services import TransitionError, ip_resume, ip_set_limits, ip_set_status
from warmup.models import PROVIDER_DOMAINS, ReplyRule, ReplyRuleAction

log = logging.getLogger(__name__)

FAILURE_OUTCOMES = FAILURES
WINDOW = timedelta(hours=1)
BY = "system: reply rules"


def _window(rule: ReplyRule) -> timedelta:
    return timedelta(minutes=rule.window_minutes or 60)


def _reason(rule: ReplyRule, matches: int) -> str:
    scope = f" to {rule.provider}" if rule.provider else ""
    minutes = rule.window_minutes or 60
    return f"reply rule {rule.name}: {matches} replies{scope} matching /{rule.pattern}/ within {minutes} min"


def reply_rules_evaluate(*, failures: dict[str, tuple[datetime, datetime]]) -> list[ReplyRuleAction]:
    """Run every enabled rule over a freshly imported batch; act on IPs that reached a rule's threshold.

    ``failures``: sending IP -> (first, last) time of the batch's new failure records. For each IP the
    count looks back one hour from its newest matching record in that range, so a burst trips the rule
    and the same number of replies spread over a day does not. One rule's error (a pattern Postgres
    refuses, say) is logged and the other rules still run.
    """
    if not failures:
        return []
    taken = []
    for rule in ReplyRule.objects.filter(enabled=True).order_by("pk"):
        try:
            re.compile(rule.pattern)
        except re.error:
            continue  # the form refuses such patterns; an old row is skipped, not fatal
        try:
            with transaction.atomic():  # a savepoint: a failed statement leaves the connection usable
                taken.extend(_apply_rule(rule, failures, PROVIDER_DOMAINS.get(rule.provider, ())))
        except Exception:
            log.exception("reply rule %s failed on a batch of %d IPs", rule.name, len(failures))
    return taken


def _matching(rule: ReplyRule, domains: tuple[str, ...]) -> QuerySet[DeliveryEvent]:
    qs = DeliveryEvent.objects.filter(outcome__in=FAILURE_OUTCOMES, dsn_diag__iregex=rule.pattern)
    if domains:
        qs = qs.filter(rcpt_domain__in=domains)
    return qs.order_by()


def _batch_newest(
    rule: ReplyRule, failures: dict[str, tuple[datetime, datetime]], domains: tuple[str, ...]
) -> QuerySet[Any, Any]:
    """Per IP, its newest record matching the rule within the batch's range of that IP."""
    in_batch = reduce(
        or_,
        (
            Q(source_ip=ip, time_logged__gte=first, time_logged__lte=last)
            for ip, (first, last) in failures.items()
        ),
    )
    return _matching(rule, domains).filter(in_batch).values("source_ip").annotate(newest=Max("time_logged"))


def _apply_rule(
    rule: ReplyRule, failures: dict[str, tuple[datetime, datetime]], domains: tuple[str, ...]
) -> list[ReplyRuleAction]:
    matching = _matching(rule, domains)
    newest = dict(_batch_newest(rule, failures, domains).values_list("source_ip", "newest"))
    actions = []
    window = _window(rule)
    for address, until in sorted(newest.items()):
        count = matching.filter(
            source_ip=address, time_logged__gt=until - window, time_logged__lte=until
        ).aggregate(n=Count("id"))["n"]
        if count < rule.threshold:
            continue
        if rule.action == ReplyRule.Action.LADDER:
            action = _ladder(rule, address, count, until - window, until, matching)
        else:
            action = _act(rule, address, count)
        if action:
            actions.append(action)
    return actions


# --- one place that starts an action: the row and its audit event -----------------------------------------


def _locked_ip(address: str) -> IPAddress | None:
    """The sending IP, locked for the rest of the transaction so two batches cannot both act on it."""
    return (
        IPAddress.objects.select_related("pool__tenant")
        .select_for_update(of=("self",))
        .filter(address=address)
        .first()
    )


def _limits_now(ip: IPAddress) -> dict:
    """What an action restores when it ends: the IP's status and limits as they are now."""
    return {
        "status": ip.status,
        "daily": ip.daily_limit,
        "hourly": ip.hourly_limit,
        "per_provider": ip.provider_limits,
    }


def _limits_restore(ip: IPAddress, before: dict, *, reason: str) -> None:
    """The IP's own and provider limits back to what ``_limits_now`` recorded."""
    ip_set_limits(
        ip=ip,
        by=BY,
        daily=before.get("daily"),
        hourly=before.get("hourly"),
        per_provider=before.get("per_provider") or {},
        reason=reason,
    )


def _action_start(
    *,
    rule: ReplyRule,
    ip: IPAddress,
    stage: str,
    matches: int,
    window: tuple[datetime, datetime] | None,
    before: dict,
    reason: str,
    now: datetime,
) -> ReplyRuleAction:
    """Record one step a rule took on an IP (a ladder stage, or a legacy hold/halve when ``stage`` is "")
    and its audit event, which names the count and the window that tripped it."""
    action = ReplyRuleAction.objects.create(
        rule=rule,
        ip=ip,
        action=rule.action,
        provider=rule.provider if stage else "",
        stage=stage,
        matches=matches,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        started_at=now,
        expires_at=now + timedelta(hours=rule.duration_hours),
        before=before,
    )
    audit_record(
        action=f"reply_rule.{stage or rule.action}",
        by=BY,
        obj=ip,
        after={
            "rule": rule.name,
            "provider": rule.provider or "all",
            "matches": matches,
            "window": [window[0].isoformat(), window[1].isoformat()] if window else None,
            "until": action.expires_at.isoformat(),
        },
        reason=reason,
    )
    return action


# --- the ladder -------------------------------------------------------------------------------------------


def provider_keys(ip: IPAddress, provider: str) -> list[str]:
    """The keys of ``ip.provider_limits`` that stand for ``provider``: the provider's own key, or its
    recipient domains; when the IP has none of them yet, the provider's domains."""
    candidates = [provider, *PROVIDER_DOMAINS.get(provider, ())]
    found = [key for key in candidates if key in (ip.provider_limits or {})]
    return found or list(PROVIDER_DOMAINS.get(provider, ()))


def _scaled(limits: dict, factor: float) -> dict:
    return {k: (None if v is None else max(1, int(v * factor))) for k, v in limits.items()}


def _provider_limits_with(ip: IPAddress, provider: str, before: dict, factor: float | None) -> dict:
    """The IP's provider limits with ``provider`` at ``factor`` of ``before`` (None: held at 0)."""
    limits = {k: dict(v) for k, v in (ip.provider_limits or {}).items()}
    base_all = before.get("per_provider") or {}
    for key in provider_keys(ip, provider):
        base = base_all.get(key)
        if base is None:
            # No provider limit of ours: the IP's own caps are the base (a provider cannot exceed them).
            base = {"daily": before.get("daily"), "hourly": before.get("hourly")}
        if factor is None:
            limits[key] = {"daily": 0, "hourly": 0}
        elif any(v is not None for v in base.values()):
            limits[key] = _scaled(base, factor)
    return limits


def _ladder_apply(ip: IPAddress, rule: ReplyRule, stage: str, before: dict, reason: str) -> None:
    if not rule.provider:
        # A rule for every provider acts on the whole IP: slow = its caps scaled, hold = paused.
        if stage == ReplyRuleAction.Stage.HOLD:
            if ip.status != IPStatus.PAUSED:
                ip_set_status(ip=ip, to=IPStatus.PAUSED, by=BY, reason=reason)
            return
        if ip.status == IPStatus.PAUSED and ip.status_reason.startswith(f"reply rule {rule.name}:"):
            with contextlib.suppress(TransitionError):
                ip_resume(ip=ip, by=BY, reason=reason)
        ip_set_limits(
            ip=ip,
            by=BY,
            daily=None if before.get("daily") is None else max(1, int(before["daily"] * rule.slow_factor)),
            hourly=None if before.get("hourly") is None else max(1, int(before["hourly"] * rule.slow_factor)),
            per_provider={
                k: _scaled(v, rule.slow_factor) for k, v in (before.get("per_provider") or {}).items()
            },
            reason=reason,
        )
        return
    factor = None if stage == ReplyRuleAction.Stage.HOLD else rule.slow_factor
    ip_set_limits(
        ip=ip,
        by=BY,
        daily=ip.daily_limit,
        hourly=ip.hourly_limit,
        per_provider=_provider_limits_with(ip, rule.provider, before, factor),
        reason=reason,
    )


@transaction.atomic
def _ladder(
    rule: ReplyRule,
    address: str,
    matches: int,
    window_start: datetime,
    window_end: datetime,
    matching: QuerySet[DeliveryEvent],
) -> ReplyRuleAction | None:
    ip = _locked_ip(address)
    if ip is None or ip.status in (IPStatus.RETIRED, IPStatus.NEW):
        return None
    current = (
        ReplyRuleAction.objects.select_for_update()
        .filter(rule=rule, ip=ip, provider=rule.provider, ended_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if current is None:
        if not ip.can_send():
            return None  # paused for another reason: nothing to slow
        stage = ReplyRuleAction.Stage.SLOW
        before = _limits_now(ip)
    elif current.stage == ReplyRuleAction.Stage.HOLD:
        return None  # standing: a hold does not stack
    else:
        # Slowed or resuming: hold only if the replies persist *after* this step began.
        since = matching.filter(source_ip=address, time_logged__gt=current.started_at).aggregate(
            n=Count("id")
        )["n"]
        if since < rule.threshold:
            return None
        stage, before, matches = ReplyRuleAction.Stage.HOLD, current.before, since
        window_start = current.started_at
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    reason = _reason(rule, matches) + (
        f"; {'slowing' if stage == ReplyRuleAction.Stage.SLOW else 'holding'} "
        f"{rule.provider or 'the IP'} for {rule.duration_hours} h"
    )
    _ladder_apply(ip, rule, stage, before, reason)
    return _action_start(
        rule=rule,
        ip=ip,
        stage=stage,
        matches=matches,
        window=(window_start, window_end),
        before=before,
        reason=reason,
        now=now,
    )


def _ladder_expire(action: ReplyRuleAction, now: datetime) -> None:
    """Hold -> resume at the slowed rate for another period; slow/resume -> the limits from before."""
    rule, ip = action.rule, action.ip
    action.ended_at = now
    action.save(update_fields=["ended_at"])
    if action.stage == ReplyRuleAction.Stage.HOLD:
        what = rule.provider or "the IP"
        reason = f"reply rule {rule.name}: hold over, resuming {what} at {rule.slow_factor:.0%}"
        _ladder_apply(ip, rule, ReplyRuleAction.Stage.RESUME, action.before, reason)
        _action_start(
            rule=rule,
            ip=ip,
            stage=ReplyRuleAction.Stage.RESUME,
            matches=0,
            window=None,
            before=action.before,
            reason=reason,
            now=now,
        )
        return
    b = action.before
    if rule.provider:
        limits = {k: dict(v) for k, v in (ip.provider_limits or {}).items()}
        original = b.get("per_provider") or {}
        for key in provider_keys(ip, rule.provider):
            if key in original:
                limits[key] = original[key]
            else:
                limits.pop(key, None)
        ip_set_limits(
            ip=ip,
            by=BY,
            daily=ip.daily_limit,
            hourly=ip.hourly_limit,
            per_provider=limits,
            reason=f"reply rule {rule.name} over: {rule.provider} back to full",
        )
    else:
        _limits_restore(ip, b, reason=f"reply rule {rule.name} over: back to full")
    audit_record(action="reply_rule.end", by=BY, obj=ip, after={"rule": rule.name}, reason="back to full")


@transaction.atomic
def _act(rule: ReplyRule, address: str, matches: int) -> ReplyRuleAction | None:
    ip = _locked_ip(address)
    if ip is None or not ip.can_send():
        return None
    if ReplyRuleAction.objects.filter(rule=rule, ip=ip, ended_at__isnull=True).exists():
        return None  # already acting: a standing burst does not stack actions
    now = timezone.now()
    before = _limits_now(ip)
    reason = _reason(rule, matches)
    if rule.action == ReplyRule.Action.HOLD:
        ip_set_status(ip=ip, to=IPStatus.PAUSED, by=BY, reason=reason)
    else:
        ip_set_limits(
            ip=ip,
            by=BY,
            daily=_half(ip.daily_limit),
            hourly=_half(ip.hourly_limit),
            per_provider={
                dom: {k: _half(v) or 1 for k, v in lim.items()} for dom, lim in ip.provider_limits.items()
            },
            reason=reason,
        )
    return _action_start(
        rule=rule, ip=ip, stage="", matches=matches, window=None, before=before, reason=reason, now=now
    )


def _half(value: int | None) -> int | None:
    # Without a limit of our own, halving has nothing to act on; PMTA keeps its defaults.
    return None if value is None else max(1, value // 2)


def reply_rule_actions_expire(*, now: datetime | None = None) -> int:
    """End actions whose time is up and restore what they changed, unless someone changed it since."""
    now = now or timezone.now()
    ended = 0
    for action in ReplyRuleAction.objects.filter(ended_at__isnull=True, expires_at__lte=now).select_related(
        "ip", "rule"
    ):
        with transaction.atomic():
            ip = action.ip
            if action.action == ReplyRule.Action.LADDER:
                _ladder_expire(action, now)
                ended += 1
                continue
            if action.action == ReplyRule.Action.HOLD:
                # Resume only a pause this rule made; a pause by an operator or the ramp stays.
                if ip.status == IPStatus.PAUSED and ip.status_reason.startswith(
                    f"reply rule {action.rule.name}:"
                ):
                    with contextlib.suppress(TransitionError):
                        ip_resume(ip=ip, by=BY, reason=f"reply rule {action.rule.name} expired")
            else:
                _limits_restore(ip, action.before, reason=f"reply rule {action.rule.name} expired")
            action.ended_at = now
            action.save(update_fields=["ended_at"])
            ended += 1
    return ended
