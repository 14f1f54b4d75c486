"""Campaign list and detail: scope per persona, totals and rates, provider and IP tables, the daily chart,
and a flat query count on the list."""

from datetime import timedelta

import pytest

from campaigns.selectors import provider_for_domain
from campaigns.tests.page_factories import make_campaign, make_stat
from core.dates import utc_today
from ips.tests.factories import IPAddressFactory, IPPoolFactory


@pytest.fixture
def data(tenant_a, tenant_b):
    today = utc_today()
    a1 = make_campaign(
        tenant_a, "a-newsletter", first=today - timedelta(days=3), last=today, name="A newsletter"
    )
    a2 = make_campaign(tenant_a, "a-promo", first=today - timedelta(days=2), last=today - timedelta(days=1))
    b1 = make_campaign(tenant_b, "b-launch", first=today - timedelta(days=1), last=today)
    old = make_campaign(tenant_a, "a-old", first=today - timedelta(days=90), last=today - timedelta(days=80))
    ip = IPAddressFactory(address="203.0.113.7", pool=IPPoolFactory(tenant=tenant_a))
    # a1: 3 days, gmail + outlook + hotmail.fr + a small domain, two IPs.
    make_stat(
        a1,
        today - timedelta(days=2),
        rcpt_domain="gmail.com",
        delivered=90,
        hard=5,
        soft=5,
        complaints=1,
        categories={"bad-mailbox": 5, "quota-issues": 5},
        ip=ip,
        source_ip="203.0.113.7",
    )
    make_stat(a1, today - timedelta(days=1), rcpt_domain="googlemail.com", delivered=10)
    make_stat(a1, today, rcpt_domain="outlook.com", delivered=40, soft=10, source_ip="203.0.113.8")
    make_stat(a1, today, rcpt_domain="hotmail.fr", delivered=50, source_ip="203.0.113.8")
    make_stat(a1, today, rcpt_domain="smallisp.example", delivered=5, hard=5)
    make_stat(a2, today - timedelta(days=1), rcpt_domain="yahoo.co.jp", delivered=100)
    make_stat(b1, today, rcpt_domain="gmail.com", delivered=1000, hard=1)
    make_stat(old, today - timedelta(days=85), rcpt_domain="gmail.com", delivered=7)
    return {"a1": a1, "a2": a2, "b1": b1, "old": old, "ip": ip, "today": today}


def keys(response) -> set[str]:
    return {c.key for c in response.context["page"].object_list}


@pytest.mark.django_db
def test_it_shows_an_operator_every_campaign_of_the_last_30_days(login, operator, data):
    response = login(operator).get("/campaigns/")
    assert response.status_code == 200
    assert keys(response) == {"a-newsletter", "a-promo", "b-launch"}
    assert "Tenant B" in response.content.decode()


@pytest.mark.django_db
def test_it_shows_a_tenant_user_only_their_campaigns(login, admin_a, viewer_a, data):
    for user in (admin_a, viewer_a):
        response = login(user).get("/campaigns/")
        assert keys(response) == {"a-newsletter", "a-promo"}
        assert "b-launch" not in response.content.decode()


@pytest.mark.django_db
def test_it_sums_totals_and_rates_per_campaign(login, admin_a, data):
    response = login(admin_a).get("/campaigns/")
    a1 = next(c for c in response.context["page"].object_list if c.key == "a-newsletter")
    t = a1.totals
    assert (t.delivered, t.hard_bounces, t.soft_bounces, t.complaints) == (195, 10, 15, 1)
    assert t.attempted == 220
    assert t.bounce_rate == 25 / 220
    assert t.complaint_rate == 1 / 195
    assert "11%" in response.content.decode()  # 11.36%, two significant digits (campaigns.stats)
    assert "0.51%" in response.content.decode()


@pytest.mark.django_db
def test_it_searches_by_key_or_name_and_filters_by_date(login, operator, data):
    client = login(operator)
    assert keys(client.get("/campaigns/?q=newsletter")) == {"a-newsletter"}
    assert keys(client.get("/campaigns/?q=PROMO")) == {"a-promo"}
    today = data["today"]
    old_range = {
        "start": (today - timedelta(days=100)).isoformat(),
        "end": (today - timedelta(days=70)).isoformat(),
    }
    response = client.get("/campaigns/", old_range)
    assert keys(response) == {"a-old"}
    assert response.context["page"].object_list[0].totals.delivered == 7


@pytest.mark.django_db
def test_it_falls_back_to_the_default_range_on_a_bad_one(login, operator, data):
    today = data["today"]
    response = login(operator).get(
        "/campaigns/", {"start": today.isoformat(), "end": (today - timedelta(days=5)).isoformat()}
    )
    assert response.status_code == 200
    assert keys(response) == {"a-newsletter", "a-promo", "b-launch"}
    assert "start day is after the end day" in response.content.decode()


@pytest.mark.django_db
def test_it_keeps_a_flat_query_count_on_the_list(login, operator, tenant_a, django_assert_max_num_queries):
    client = login(operator)
    today = utc_today()
    for i in range(3):
        make_stat(make_campaign(tenant_a, f"c{i}", first=today, last=today), today, delivered=1)
    with django_assert_max_num_queries(8) as few:
        client.get("/campaigns/")
    for i in range(3, 30):
        make_stat(make_campaign(tenant_a, f"c{i}", first=today, last=today), today, delivered=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/campaigns/")
    assert len(response.context["page"].object_list) == 30


@pytest.mark.django_db
def test_it_answers_404_for_another_tenants_campaign(login, admin_a, viewer_a, operator, data):
    for user in (admin_a, viewer_a):
        assert login(user).get(f"/campaigns/{data['b1'].pk}/").status_code == 404
    assert login(operator).get(f"/campaigns/{data['b1'].pk}/").status_code == 200


@pytest.mark.django_db
def test_it_breaks_a_campaign_down_by_provider_and_ip(login, admin_a, data):
    response = login(admin_a).get(f"/campaigns/{data['a1'].pk}/")
    assert response.status_code == 200
    ctx = response.context
    providers = {row.label: row.totals for row in ctx["by_provider"]}
    assert set(providers) == {"Gmail", "Microsoft", "smallisp.example"}
    assert providers["Gmail"].delivered == 100 and providers["Gmail"].hard_bounces == 5
    assert providers["Microsoft"].attempted == 100 and providers["Microsoft"].soft_bounces == 10
    ips = {row.label: row for row in ctx["by_ip"]}
    assert ips["203.0.113.7"].link_id == data["ip"].pk
    assert ips["203.0.113.8"].totals.delivered == 90
    assert ips["203.0.113.1"].totals.delivered == 15
    assert ctx["totals"].attempted == 220
    html = response.content.decode()
    assert f'href="/ips/{data["ip"].pk}/"' in html


@pytest.mark.django_db
def test_it_draws_one_delivered_and_one_bounced_bar_per_day(login, admin_a, data):
    response = login(admin_a).get(f"/campaigns/{data['a1'].pk}/")
    days = response.context["days"]
    assert len(days) == 4  # first_seen is 3 days ago, last_seen today
    html = response.content.decode()
    svg = html[html.index('<svg class="chart"') : html.index("</svg>")]
    assert svg.count('<rect class="bar') == 2 * 4
    assert svg.count('class="bar delivered"') == 4
    assert svg.count('class="bar bad"') == 4
    assert "style=" not in html  # the CSP forbids inline styles


@pytest.mark.django_db
def test_it_charts_the_chosen_range(login, operator, data):
    today = data["today"]
    start = today - timedelta(days=9)
    response = login(operator).get(
        f"/campaigns/{data['a1'].pk}/", {"start": start.isoformat(), "end": today.isoformat()}
    )
    assert len(response.context["chart"].bars) == 20
    assert response.context["totals"].delivered == 195


@pytest.mark.parametrize(
    ("domain", "provider"),
    [
        ("gmail.com", "Gmail"),
        ("GoogleMail.com", "Gmail"),
        ("outlook.com", "Microsoft"),
        ("hotmail.co.uk", "Microsoft"),
        ("live.fr", "Microsoft"),
        ("msn.com", "Microsoft"),
        ("yahoo.fr", "Yahoo/AOL"),
        ("aol.com", "Yahoo/AOL"),
        ("ymail.com", "Yahoo/AOL"),
        ("orange.fr", "orange.fr"),
        ("", "(no domain)"),
    ],
)
def test_it_groups_recipient_domains_into_providers(domain, provider):
    assert provider_for_domain(domain) == provider


@pytest.mark.django_db
def test_it_swaps_only_the_results_for_htmx(login, admin_a, data):
    response = login(admin_a).get(
        "/campaigns/?q=promo", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="campaign-results"
    )
    html = response.content.decode()
    assert "<html" not in html and "campaign-table" in html
    assert "a-promo" in html and "a-newsletter" not in html
