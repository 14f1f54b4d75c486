"""Demo warmup: the demo's warming IPs on the SparkPost-like plan, with a week of real ramp decisions."""

from datetime import timedelta

from core.dates import utc_today
from ips.models import IPAddress, IPStatus
from warmup.models import IPWarmup, ReplyRule, WarmupPlan
from warmup.services import plans_install_presets, reply_rules_install_presets, warmup_assign, warmup_run_ramp

BY = "system: seed_demo"


def seed() -> dict[str, int]:
    plans_install_presets()
    reply_rules_install_presets()
    plan = WarmupPlan.objects.get(preset_key="sparkpost")
    today = utc_today()
    start = today - timedelta(days=8)
    for ip in IPAddress.objects.filter(status=IPStatus.WARMING, warmup__isnull=True).select_related(
        "pool__tenant"
    ):
        warmup_assign(ip=ip, plan=plan, by=BY, start_on=start)
    # The ramp is idempotent per day, so replaying the last week adds only the missing days' decisions.
    for back in range(7, -1, -1):
        warmup_run_ramp(day=today - timedelta(days=back))
    ReplyRule.objects.get_or_create(
        name="Gmail rate limit",
        defaults={"pattern": r"421[ -]4\.7\.28", "provider": "gmail", "threshold": 25, "action": "halve"},
    )
    return {"warmups": IPWarmup.objects.count()}
