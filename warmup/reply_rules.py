"""Reply-driven traffic shaping: a burst of matching remote replies holds or throttles an IP for a while."""

import contextlib
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from campaigns.models import DeliveryEvent
from ips.models import IPAddress, IPStatus
from ips.services import TransitionError, ip_resume, ip_set_limits, ip_set_status
from tenants.audit import audit_record
from warmup.models import PROVIDER_DOMAINS, ReplyRule, ReplyRuleAction

FAILURE_OUTCOMES = ("transient", "soft_bounce", "hard_bounce")
WINDOW = timedelta(hours=1)
BY = "system: reply rules"


def _reason(rule: ReplyRule, matches: int) -> str:
    return f"reply rule {rule.name}: {matches} replies matching /{rule.pattern}/ within an hour"


def reply_rules_evaluate(*, events: list[dict]) -> list[ReplyRuleAction]:
    """Run every enabled rule over a freshly imported batch; act on IPs that reached a rule's threshold.

    The count looks back one hour from the newest matching record, so a burst trips the rule and the same
    number of replies spread over a day does not.
    """
    failures = [e for e in events if e.get("outcome") in FAILURE_OUTCOMES and e.get("source_ip")]
    if not failures:
        return []
    taken = []
    for rule in ReplyRule.objects.filter(enabled=True):
        try:
            regex = re.compile(rule.pattern, re.IGNORECASE)
        except re.error:
            continue
        domains = PROVIDER_DOMAINS.get(rule.provider, ())
        hits = [
            e
            for e in failures
            if regex.search(e.get("dsn_diag") or "") and (not domains or e.get("rcpt_domain") in domains)
        ]
        if not hits:
            continue
        taken.extend(_apply_rule(rule, {e["source_ip"] for e in hits}, domains))
    return taken


def _apply_rule(rule: ReplyRule, addresses: set[str], domains: tuple[str, ...]) -> list[ReplyRuleAction]:
    qs = DeliveryEvent.objects.filter(
        source_ip__in=addresses, outcome__in=FAILURE_OUTCOMES, dsn_diag__iregex=rule.pattern
    )
    if domains:
        qs = qs.filter(rcpt_domain__in=domains)
    newest = {r["source_ip"]: r["newest"] for r in qs.values("source_ip").annotate(newest=Max("time_logged"))}
    actions = []
    for address, until in newest.items():
        count = qs.filter(
            source_ip=address, time_logged__gt=until - WINDOW, time_logged__lte=until
        ).aggregate(n=Count("id"))["n"]
        if count < rule.threshold:
            continue
        action = _act(rule, address, count)
        if action:
            actions.append(action)
    return actions


@transaction.atomic
def _act(rule: ReplyRule, address: str, matches: int) -> ReplyRuleAction | None:
    ip = (
        IPAddress.objects.select_related("pool__tenant")
        .select_for_update(of=("self",))
        .filter(address=address)
        .first()
    )
    if ip is None or not ip.can_send():
        return None
    if ReplyRuleAction.objects.filter(rule=rule, ip=ip, ended_at__isnull=True).exists():
        return None  # already acting: a standing burst does not stack actions
    now = timezone.now()
    before = {
        "status": ip.status,
        "daily": ip.daily_limit,
        "hourly": ip.hourly_limit,
        "per_provider": ip.provider_limits,
    }
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
                dom: {k: _half(v) for k, v in lim.items()} for dom, lim in ip.provider_limits.items()
            },
            reason=reason,
        )
    action = ReplyRuleAction.objects.create(
        rule=rule,
        ip=ip,
        action=rule.action,
        matches=matches,
        started_at=now,
        expires_at=now + timedelta(hours=rule.duration_hours),
        before=before,
    )
    audit_record(
        action=f"reply_rule.{rule.action}",
        by=BY,
        obj=ip,
        after={"rule": rule.name, "until": action.expires_at.isoformat()},
        reason=reason,
    )
    return action


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
            if action.action == ReplyRule.Action.HOLD:
                # Resume only a pause this rule made; a pause by an operator or the ramp stays.
                if ip.status == IPStatus.PAUSED and ip.status_reason.startswith(
                    f"reply rule {action.rule.name}:"
                ):
                    with contextlib.suppress(TransitionError):
                        ip_resume(ip=ip, by=BY, reason=f"reply rule {action.rule.name} expired")
            else:
                b = action.before
                ip_set_limits(
                    ip=ip,
                    by=BY,
                    daily=b.get("daily"),
                    hourly=b.get("hourly"),
                    per_provider=b.get("per_provider") or {},
                    reason=f"reply rule {action.rule.name} expired",
                )
            action.ended_at = now
            action.save(update_fields=["ended_at"])
            ended += 1
    return ended
