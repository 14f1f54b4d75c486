import pytest

from core.dates import utc_today
from core.models import AuditEvent
from warmup.models import IPWarmup, ReplyRule, WarmupPlan
from warmup.services import warmup_assign
from warmup.tests.conftest import make_ip

pytestmark = pytest.mark.django_db


@pytest.fixture
def warmups(pool_a, pool_b, plan, operator):
    a = make_ip("203.0.113.70", pool_a)
    b = make_ip("203.0.113.80", pool_b)
    return warmup_assign(ip=a, plan=plan, by=operator), warmup_assign(ip=b, plan=plan, by=operator)


def test_the_board_shows_each_user_only_their_ips(login, operator, admin_a, viewer_a, warmups):
    assert all(
        ip in login(operator).get("/warmup/").content.decode() for ip in ("203.0.113.70", "203.0.113.80")
    )
    for user in (admin_a, viewer_a):
        body = login(user).get("/warmup/").content.decode()
        assert "203.0.113.70" in body and "203.0.113.80" not in body
        assert "Skip step" not in body  # read-only for tenant users


def test_the_board_query_count_does_not_grow_with_rows(
    login, operator, pool_a, plan, django_assert_max_num_queries
):
    for i in range(25):
        warmup_assign(ip=make_ip(f"203.0.113.{150 + i}", pool_a), plan=plan, by=operator)
    client = login(operator)
    with django_assert_max_num_queries(12):
        assert client.get("/warmup/").status_code == 200


def test_an_operator_holds_a_warmup_with_htmx_and_gets_the_row_back(login, operator, warmups):
    w = warmups[0]
    response = login(operator).post(
        f"/warmup/{w.pk}/action/", {"action": "hold", "reason": "checking"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and f'id="warmup-{w.pk}"' in body and "<html" not in body
    w.refresh_from_db()
    assert w.status == IPWarmup.Status.HELD
    assert AuditEvent.objects.filter(action="warmup.hold").count() == 1


def test_skip_and_step_back_move_the_limits(login, operator, warmups):
    w = warmups[0]
    client = login(operator)
    client.post(f"/warmup/{w.pk}/action/", {"action": "skip"})
    w.ip.refresh_from_db()
    assert w.ip.daily_limit == 2000
    client.post(f"/warmup/{w.pk}/action/", {"action": "back"})
    w.ip.refresh_from_db()
    assert w.ip.daily_limit == 1000
    response = client.post(f"/warmup/{w.pk}/action/", {"action": "back"}, headers={"HX-Request": "true"})
    assert "There is no step 0" in response.content.decode()


def test_tenant_users_cannot_act_on_their_own_warmup(login, admin_a, warmups):
    assert login(admin_a).post(f"/warmup/{warmups[0].pk}/action/", {"action": "hold"}).status_code == 403


def test_the_ip_page_shows_the_timeline_and_decisions(login, admin_a, warmups):
    body = login(admin_a).get(f"/warmup/ips/{warmups[0].ip_id}/").content.decode()
    assert "<svg" in body and "test plan" in body and "Assign plan" not in body


def test_the_plan_page_previews_days_to_reach_a_volume(login, operator, plan):
    client = login(operator)
    body = client.get(
        f"/warmup/plans/{plan.pk}/?target=3000", headers={"HX-Request": "true"}
    ).content.decode()
    assert "3 days" in body
    body = client.get(
        f"/warmup/plans/{plan.pk}/?target=9000", headers={"HX-Request": "true"}
    ).content.decode()
    assert "never reaches" in body


def test_presets_are_shipped_and_read_only_until_copied(login, operator):
    preset = WarmupPlan.objects.get(preset_key="sparkpost")
    assert preset.steps.count() == 29
    client = login(operator)
    response = client.get(f"/warmup/plans/{preset.pk}/edit/")
    assert response.status_code == 302
    client.post(f"/warmup/plans/{preset.pk}/copy/", {"name": "Our ramp"})
    copy = WarmupPlan.objects.get(name="Our ramp")
    assert copy.steps.count() == 29 and not copy.is_preset
    response = client.post(
        f"/warmup/plans/{copy.pk}/edit/",
        {
            "name": "Our ramp",
            "description": "",
            "steps_text": "100, 10\n300, 30, 50, 50, 50\nbad line",
            **{
                f: v
                for f, v in {
                    "advance_min_ratio": 0.8,
                    "hold_bounce_rate": 0.02,
                    "hold_complaint_rate": 0.001,
                    "step_back_bounce_rate": 0.03,
                    "step_back_deferral_rate": 0.3,
                    "pause_bounce_rate": 0.05,
                    "pause_complaint_rate": 0.003,
                }.items()
            },
        },
    )
    assert "line 3" in response.content.decode()
    copy.refresh_from_db()
    assert copy.steps.count() == 29


def test_plan_and_rule_pages_are_operator_only(login, admin_a, plan):
    client = login(admin_a)
    assert client.get("/warmup/plans/").status_code == 404
    assert client.get(f"/warmup/plans/{plan.pk}/").status_code == 404
    assert client.get("/warmup/rules/").status_code == 404


def test_an_operator_creates_a_reply_rule_and_bad_regex_is_refused(login, operator):
    client = login(operator)
    bad = client.post(
        "/warmup/rules/", {"name": "x", "pattern": "(", "threshold": 5, "action": "hold", "duration_hours": 1}
    )
    assert "Not a valid regular expression" in bad.content.decode()
    client.post(
        "/warmup/rules/",
        {
            "name": "gmail",
            "pattern": r"4\.7\.28",
            "provider": "gmail",
            "threshold": 5,
            "window_minutes": 60,
            "action": "halve",
            "duration_hours": 2,
            "slow_factor": 0.5,
            "backoff_to_normal_minutes": 30,
            "enabled": "on",
        },
    )
    assert ReplyRule.objects.get(name="gmail").action == "halve"
    assert AuditEvent.objects.filter(action="reply_rule.create").count() == 1


def test_assigning_a_pool_starts_its_new_ips(login, operator, pool_a, plan):
    make_ip("203.0.113.90", pool_a)
    make_ip("203.0.113.91", pool_a, status="active")
    login(operator).post(f"/warmup/pools/{pool_a.pk}/assign/", {"plan": plan.pk})
    assert list(IPWarmup.objects.values_list("ip__address", flat=True)) == ["203.0.113.90"]
    assert IPWarmup.objects.get().started_on == utc_today()


def test_the_warmup_charts_are_core_charts():
    """One chart implementation: the ramp (log axis) and the 30-day timeline (sent, the day's limit, the
    ramp's decisions) are core.charts charts, rendered by core/_chart.html with their data table."""
    from django.template.loader import render_to_string

    from core.charts import Chart
    from warmup.charts import ramp_chart, timeline_chart

    ramp = ramp_chart([200, 2_000, 20_000])
    assert isinstance(ramp, Chart) and ramp.table.rows[0] == ("step 1", ["200"])
    assert [b.title for b in ramp.bars][-1] == "step 3 · Daily limit: 20,000"
    days = [("2026-11-01", 150, 200, ""), ("2026-11-02", 250, 200, "hold"), ("2026-11-03", 0, 400, "advance")]
    timeline = timeline_chart(days)
    assert [b.css for b in timeline.bars] == ["", "bad", ""]
    assert len(timeline.limits) == 3 and [e.title for e in timeline.events] == ["2026-11-03 · advance"]
    html = render_to_string("warmup/_timeline_chart.html", {"chart": timeline})
    assert '<path class="marker advance"' in html and "<summary>Table: Sent per day" in html
