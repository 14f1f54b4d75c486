"""Reply rules per IP x provider (issue 16): slow down first, hold only if it persists, resume gradually;
the starter set; the same patterns rendered as PMTA's own backoff mode (UG5 3.3.15)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from campaigns.models import DeliveryEvent
from core.models import AuditEvent
from ips.models import IPStatus
from warmup.models import ReplyRule, ReplyRuleAction
from warmup.pmta_backoff import backoff_lines, pmta_pattern
from warmup.reply_presets import REPLY_PRESETS
from warmup.reply_rules import reply_rule_actions_expire
from warmup.tasks import reply_rules_check
from warmup.tests.conftest import make_ip

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
GMAIL = "smtp;421-4.7.28 [203.0.113.70] Our system has detected an unusual rate of unsolicited mail"
YAHOO = "smtp;421 4.7.0 [TSS04] Messages from 203.0.113.70 temporarily deferred due to unexpected volume"


def replies(ip, times, diag=GMAIL, domain="gmail.com"):
    DeliveryEvent.objects.bulk_create(
        DeliveryEvent(
            time_logged=t,
            type="t",
            outcome="transient",
            rcpt=f"u{uuid4().hex[:6]}@{domain}",
            rcpt_domain=domain,
            source_ip=ip.address,
            dsn_diag=diag,
            fingerprint=uuid4(),
            ip=ip,
        )
        for t in times
    )
    reply_rules_check({ip.address: [min(times).isoformat(), max(times).isoformat()]})


@pytest.fixture
def ip(pool_a):
    ip = make_ip("203.0.113.70", pool_a, status=IPStatus.ACTIVE)
    ip.daily_limit, ip.hourly_limit = 1000, 100
    ip.provider_limits = {
        "gmail.com": {"daily": 400, "hourly": 40},
        "yahoo.com": {"daily": 300, "hourly": 30},
    }
    ip.save()
    return ip


def gmail_rule():
    return ReplyRule.objects.get(preset_key="gmail-unusual-rate")


def test_the_starter_set_is_installed_and_cited():
    rules = {r.preset_key: r for r in ReplyRule.objects.exclude(preset_key="")}
    assert set(rules) == {p.key for p in REPLY_PRESETS}
    assert {r.provider for r in rules.values()} == {"gmail", "yahoo", "microsoft"}
    for rule in rules.values():
        assert rule.action == "ladder" and rule.source, rule.name
    assert "support.google.com" in rules["gmail-unusual-rate"].source
    assert "TSS04" in rules["yahoo-tss04"].source


def test_a_burst_slows_only_that_provider_on_that_ip(ip):
    replies(ip, [T0 + timedelta(minutes=i) for i in range(10)])
    ip.refresh_from_db()
    assert ip.status == IPStatus.ACTIVE
    assert ip.provider_limits["gmail.com"] == {"daily": 200, "hourly": 20}
    assert ip.provider_limits["yahoo.com"] == {"daily": 300, "hourly": 30}  # Yahoo is fine
    assert (ip.daily_limit, ip.hourly_limit) == (1000, 100)
    action = ReplyRuleAction.objects.get()
    assert (action.stage, action.provider, action.matches) == ("slow", "gmail", 10)
    assert action.window_end - action.window_start == timedelta(minutes=60)
    event = AuditEvent.objects.get(action="reply_rule.slow")
    assert "10 replies to gmail" in event.reason and "within 60 min" in event.reason


def test_it_holds_only_if_the_replies_persist_after_slowing(ip):
    burst = [T0 + timedelta(minutes=i) for i in range(10)]
    replies(ip, burst)
    slow = ReplyRuleAction.objects.get()
    # Replies that were already counted do not escalate; new ones after the slowdown began do.
    later = [slow.started_at + timedelta(minutes=1 + i) for i in range(10)]
    replies(ip, later)
    ip.refresh_from_db()
    assert ip.provider_limits["gmail.com"] == {"daily": 0, "hourly": 0}
    hold = ReplyRuleAction.objects.get(ended_at__isnull=True)
    assert hold.stage == "hold" and hold.before["per_provider"]["gmail.com"] == {"daily": 400, "hourly": 40}
    assert ip.status == IPStatus.ACTIVE  # the IP keeps sending to everyone else


def test_after_a_hold_it_resumes_at_the_slowed_rate_then_full(ip):
    replies(ip, [T0 + timedelta(minutes=i) for i in range(10)])
    slow = ReplyRuleAction.objects.get()
    replies(ip, [slow.started_at + timedelta(minutes=1 + i) for i in range(10)])
    hold = ReplyRuleAction.objects.get(ended_at__isnull=True)
    reply_rule_actions_expire(now=hold.expires_at)
    ip.refresh_from_db()
    assert ip.provider_limits["gmail.com"] == {"daily": 200, "hourly": 20}
    resume = ReplyRuleAction.objects.get(ended_at__isnull=True)
    assert resume.stage == "resume"
    reply_rule_actions_expire(now=resume.expires_at)
    ip.refresh_from_db()
    assert ip.provider_limits["gmail.com"] == {"daily": 400, "hourly": 40}
    assert not ReplyRuleAction.objects.filter(ended_at__isnull=True).exists()


def test_a_slowdown_that_calms_down_ends_at_full_speed(ip):
    replies(ip, [T0 + timedelta(minutes=i) for i in range(10)])
    reply_rule_actions_expire(now=ReplyRuleAction.objects.get().expires_at)
    ip.refresh_from_db()
    assert ip.provider_limits["gmail.com"] == {"daily": 400, "hourly": 40}


def test_yahoo_replies_act_on_yahoo_not_gmail(ip):
    replies(ip, [T0 + timedelta(minutes=i) for i in range(10)], diag=YAHOO, domain="yahoo.com")
    ip.refresh_from_db()
    assert ip.provider_limits["yahoo.com"] == {"daily": 150, "hourly": 15}
    assert ip.provider_limits["gmail.com"] == {"daily": 400, "hourly": 40}


def test_below_the_threshold_nothing_happens(ip):
    replies(ip, [T0 + timedelta(minutes=i) for i in range(9)])
    assert not ReplyRuleAction.objects.exists()


def test_the_rules_render_as_pmta_backoff_mode():
    lines = backoff_lines(ReplyRule.objects.filter(enabled=True).order_by("provider", "name"))
    text = "\n".join(lines)
    assert "<smtp-pattern-list ee-backoff-gmail>" in text
    assert r"    reply /4\.7\.28/ mode=backoff" in text
    assert r"    reply /\[TSS04\]/ mode=backoff" in text
    assert (
        "<domain gmail.com>\n    smtp-pattern-list ee-backoff-gmail\n    backoff-max-msg-rate 100/h\n" in text
    )
    assert "    backoff-to-normal-after 30m" in text
    # Yahoo's TS03 rule is stricter: the provider's queues back off to its rate.
    assert (
        "<domain yahoo.com>\n    smtp-pattern-list ee-backoff-yahoo\n    backoff-max-msg-rate 20/h\n" in text
    )
    # Every opened block is closed, every directive is one the UG5 documents.
    assert text.count("<smtp-pattern-list") == text.count("</smtp-pattern-list>") == 3
    assert text.count("<domain ") == text.count("</domain>")
    # The grouped provider queue of capped IPs backs off too, and every line is in ips' directive table.
    assert "<domain gmail.queue>\n    smtp-pattern-list ee-backoff-gmail\n" in text
    from ips.pmta_directives import config_check

    assert config_check({"emailengine-backoff.conf": text}) == []
    directives = {line.split()[0] for line in lines if line.startswith("    ")}
    assert directives == {"reply", "smtp-pattern-list", "backoff-max-msg-rate", "backoff-to-normal-after"}


def test_a_pattern_is_escaped_for_pmta():
    assert pmta_pattern("a/b#c") == r"a\/b\x23c"
    # An escape the author wrote stays one escape: "\/" doubled would end the pattern early.
    assert pmta_pattern(r"a\/b\#c\.d") == r"a\/b\x23c\.d"
    # UG5 3.3.15: quotes are escaped with a backslash.
    assert pmta_pattern('say "no"') == r"say \"no\""
    with pytest.raises(ValueError):
        pmta_pattern("a\nb")


def test_every_backoff_line_comes_from_the_directive_table():
    """Each line is what ips' directive functions render (one renderer for the whole config); the header
    cites each directive's UG5 section from the same table."""
    from ips.pmta_directives import BLOCKS, DIRECTIVES, block_close, block_open, directive_line
    from warmup.pmta_backoff import render_backoff_fragment

    lines = backoff_lines(ReplyRule.objects.filter(enabled=True, provider="gmail").order_by("name"))
    assert block_open("smtp-pattern-list", "ee-backoff-gmail", context="global") in lines
    assert directive_line("reply", r"/4\.7\.28/ mode=backoff", context="smtp-pattern-list", indent=4) in lines
    assert directive_line("smtp-pattern-list", "ee-backoff-gmail", context="domain", indent=4) in lines
    assert block_close("domain") in lines
    header = render_backoff_fragment(None).splitlines()[0]
    for name in ("reply", "smtp-pattern-list", "backoff-max-msg-rate", "backoff-to-normal-after"):
        assert f"{name}: {DIRECTIVES[name].section}" in header
    assert f"<smtp-pattern-list>: {BLOCKS['smtp-pattern-list'].section}" in header
    assert "UG5 3.3.15" in header and "UG5 3.3.10.34" in header


def test_a_provider_whose_pattern_pmta_could_not_read_is_left_out_whole():
    """A pattern the table's grammar refuses (a trailing backslash escapes the closing slash) drops that
    provider's list with a comment, never half a list; the other providers still render."""
    ReplyRule.objects.create(name="broken", pattern="abc\\", provider="gmail", threshold=5)
    lines = backoff_lines(ReplyRule.objects.filter(enabled=True).order_by("provider", "name"))
    text = "\n".join(lines)
    assert "<smtp-pattern-list ee-backoff-gmail>" not in text
    assert "# reply rules for gmail left out: reply" in text
    assert "<smtp-pattern-list ee-backoff-yahoo>" in text
    from ips.pmta_directives import config_check

    assert config_check({"emailengine-backoff.conf": text}) == []


def test_the_rules_page_shows_the_ladder_sources_and_the_pmta_fragment(login, operator):
    page = login(operator).get("/warmup/rules/").content.decode()
    assert "support.google.com/a/answer/3726730" in page
    assert "10 in 60 min" in page
    assert "&lt;smtp-pattern-list ee-backoff-gmail&gt;" in page


def test_every_server_config_includes_the_backoff_fragment(pool_a):
    from ips import pmta_config

    assert "emailengine-backoff.conf" in pmta_config.registered_fragments()
    files = pmta_config.render_server_config(pool_a.server)
    assert "include /etc/pmta/emailengine/emailengine-backoff.conf" in files["emailengine.conf"]
    body = files["emailengine-backoff.conf"]
    assert "<smtp-pattern-list ee-backoff-gmail>" in body and "backoff-max-msg-rate 100/h" in body
    ReplyRule.objects.update(enabled=False)
    assert (
        "# no provider reply rules enabled"
        in pmta_config.render_server_config(pool_a.server)["emailengine-backoff.conf"]
    )


def test_the_starter_rules_never_bounce_mail_whatever_their_source():
    """Unconfirmed provider texts (reply_presets.py) get the behaviour that loses nothing: their PMTA
    patterns only switch a queue to backoff, and the table refuses bounce actions outright."""
    from ips.pmta_directives import DIRECTIVES

    lines = backoff_lines(ReplyRule.objects.filter(preset_key__gt=""))
    replies = [line.strip() for line in lines if line.strip().startswith("reply ")]
    assert replies and all(line.endswith(" mode=backoff") for line in replies)
    assert not DIRECTIVES["reply"].matches("/x/ bounce-queue")
    assert not DIRECTIVES["reply"].matches("/x/ bounce-rcpt")
