"""Reply-driven traffic shaping: a burst of matching remote replies holds or throttles an IP for a while.

Rules run after each committed import batch (warmup.tasks.reply_rules_check, enqueued on commit by
warmup.receivers), and look only at the batch's sending IPs within the batch's time range plus the
rule's window, through the partial (source_ip, time_logged) index of failures: the cost follows the
batch, not the number of stored events.
"""

import contextlib
import logging
import re
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from campaigns.accounting.classify import FAILURES
from campaigns.models import DeliveryEvent
from ips.models import IPAddress, IPStatus
from ips.services import TransitionError, ip_resume, ip_set_limits, ip_set_status
from tenants.audit import audit_record
from warmup.models import PROVIDER_DOMAINS, ReplyRule, ReplyRuleAction

log = logging.getLogger(__name__)

FAILURE_OUTCOMES = FAILURES
WINDOW = timedelta(hours=1)
BY = "system: reply rules"


def _reason(rule: ReplyRule, matches: int) -> str:
    return f"reply rule {rule.name}: {matches} replies matching /{rule.pattern}/ within an hour"


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
) -> QuerySet[DeliveryEvent]:
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
    for address, until in sorted(newest.items()):
        count = matching.filter(
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
