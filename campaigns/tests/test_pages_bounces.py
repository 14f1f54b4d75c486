"""Bounce explorer: category counts (and chart), top diagnostic texts with normalised variable parts,
filters, and tenant scope."""

from datetime import timedelta

import pytest

from campaigns.tests.page_factories import at, make_campaign, make_event, make_stat
from core.dates import utc_today


@pytest.fixture
def bounces(tenant_a, tenant_b):
    today = utc_today()
    ca = make_campaign(tenant_a, "a1", first=today, last=today)
    cb = make_campaign(tenant_b, "b1", first=today, last=today)
    make_stat(
        ca,
        today,
        rcpt_domain="gmail.com",
        delivered=50,
        hard=6,
        soft=2,
        categories={"bad-mailbox": 6, "quota-issues": 2},
    )
    make_stat(
        ca,
        today - timedelta(days=1),
        rcpt_domain="orange.fr",
        delivered=10,
        soft=3,
        categories={"spam-related": 3},
    )
    make_stat(cb, today, rcpt_domain="gmail.com", hard=100, categories={"bad-domain": 100})
    when = at(today, 10)
    for user in ("ann", "bob", "cy"):
        make_event(
            tenant_a,
            f"{user}@gmail.com",
            when=when,
            type="b",
            outcome="hard_bounce",
            bounce_cat="bad-mailbox",
            dsn_diag=f"smtp;550 5.1.1 <{user}@gmail.com>: user unknown id 4F3A2B1C99",
            campaign=ca,
        )
    make_event(
        tenant_a,
        "dan@orange.fr",
        when=when,
        type="b",
        outcome="soft_bounce",
        bounce_cat="spam-related",
        dsn_diag="smtp;554 5.7.1 rejected from 203.0.113.5 ref 12345678",
    )
    make_event(tenant_a, "eve@gmail.com", when=when, type="d", outcome="delivered")
    make_event(
        tenant_b,
        "zed@gmail.com",
        when=when,
        type="b",
        outcome="hard_bounce",
        bounce_cat="bad-domain",
        dsn_diag="smtp;550 secret tenant b text",
    )
    return today


@pytest.mark.django_db
def test_it_counts_bounces_by_category_in_the_tenants_scope(login, admin_a, bounces):
    response = login(admin_a).get("/bounces/")
    assert response.status_code == 200
    assert response.context["categories"] == [("bad-mailbox", 6), ("spam-related", 3), ("quota-issues", 2)]
    assert response.context["totals"].hard_bounces == 6
    html = response.content.decode()
    assert "bad-domain" not in html and "secret tenant b" not in html
    svg = html[html.index('<svg class="chart"') : html.index("</svg>")]
    assert svg.count('<rect class="bar') == 3


@pytest.mark.django_db
def test_it_shows_an_operator_every_tenant(login, operator, bounces):
    response = login(operator).get("/bounces/")
    assert response.context["categories"][0] == ("bad-domain", 100)
    assert "secret tenant b text" in response.content.decode()


@pytest.mark.django_db
def test_it_groups_diagnostics_with_the_variable_parts_normalised(login, admin_a, bounces):
    response = login(admin_a).get("/bounces/")
    top = response.context["diagnostics"]
    assert top[0]["text"] == "smtp;550 5.1.1 <…>: user unknown id …"
    assert (top[0]["n"], top[0]["hard"], top[0]["sample"], top[0]["bounce_cat"]) == (
        3,
        3,
        "ann@gmail.com",
        "bad-mailbox",
    )
    assert top[1]["text"] == "smtp;554 5.7.1 rejected from … ref …"
    assert len(top) == 2  # the delivery is not a bounce
    assert 'href="/messages/?q=ann%40gmail.com"' in response.content.decode()


@pytest.mark.django_db
def test_the_diagnostics_read_only_the_latest_bounces_of_the_period(login, admin_a, bounces, monkeypatch):
    from campaigns import selectors

    monkeypatch.setattr(selectors, "DIAGNOSTICS_SAMPLE", 2)
    response = login(admin_a).get("/bounces/")
    top = response.context["diagnostics"]
    assert sum(d["n"] for d in top) == 2
    assert "latest 2 bounces" in response.content.decode()


@pytest.mark.django_db
def test_it_filters_by_category_domain_and_days(login, admin_a, bounces):
    client = login(admin_a)
    response = client.get("/bounces/?category=spam-related")
    assert [d["bounce_cat"] for d in response.context["diagnostics"]] == ["spam-related"]
    response = client.get("/bounces/?domain=gmail.com")
    assert response.context["categories"] == [("bad-mailbox", 6), ("quota-issues", 2)]
    assert [d["n"] for d in response.context["diagnostics"]] == [3]
    yesterday = (bounces - timedelta(days=1)).isoformat()
    response = client.get(f"/bounces/?start={yesterday}&end={yesterday}")
    assert response.context["categories"] == [("spam-related", 3)]
    assert response.context["diagnostics"] == []


@pytest.mark.django_db
def test_it_rejects_a_domain_that_is_not_one(login, admin_a, bounces):
    response = login(admin_a).get("/bounces/?domain=not a domain")
    assert response.status_code == 200
    assert "Enter a domain" in response.content.decode()
