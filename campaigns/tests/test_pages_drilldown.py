"""Drill-down: the bounce explorer and the message search filter by tenant (operators), sending IP,
campaign, provider, category and UTC days, all in the URL so other pages link to them; campaigns link to
their bounces and messages; another tenant's campaign is a 404."""

from datetime import timedelta

import pytest

from campaigns.tests.page_factories import at, make_campaign, make_event, make_stat
from core.dates import utc_today


@pytest.fixture
def traffic(tenant_a, tenant_b):
    today = utc_today()
    ca = make_campaign(tenant_a, "spring", first=today, last=today)
    ca2 = make_campaign(tenant_a, "summer", first=today, last=today)
    cb = make_campaign(tenant_b, "b-news", first=today, last=today)
    make_stat(ca, today, source_ip="10.0.0.1", rcpt_domain="gmail.com", hard=4, categories={"bad-mailbox": 4})
    make_stat(
        ca, today, source_ip="10.0.0.2", rcpt_domain="hotmail.fr", soft=3, categories={"spam-related": 3}
    )
    make_stat(
        ca2, today, source_ip="10.0.0.1", rcpt_domain="orange.fr", soft=2, categories={"quota-issues": 2}
    )
    make_stat(
        cb, today, source_ip="10.0.1.1", rcpt_domain="gmail.com", hard=50, categories={"bad-domain": 50}
    )
    when = at(today, 9)

    def bounce(tenant, rcpt, ip, cat, campaign):
        make_event(
            tenant,
            rcpt,
            when=when,
            type="b",
            outcome="soft_bounce",
            source_ip=ip,
            bounce_cat=cat,
            dsn_diag=f"550 {cat}",
            campaign=campaign,
        )

    bounce(tenant_a, "ann@gmail.com", "10.0.0.1", "bad-mailbox", ca)
    bounce(tenant_a, "bob@hotmail.fr", "10.0.0.2", "spam-related", ca)
    bounce(tenant_a, "cy@orange.fr", "10.0.0.1", "quota-issues", ca2)
    bounce(tenant_b, "zed@gmail.com", "10.0.1.1", "bad-domain", cb)
    make_event(tenant_a, "dan@gmail.com", when=at(today - timedelta(days=3), 9), source_ip="10.0.0.1")
    return {"today": today, "ca": ca, "ca2": ca2, "cb": cb}


def _cats(response) -> list[tuple[str, int]]:
    return response.context["categories"]


def _rcpts(response) -> list[str]:
    return sorted(e.rcpt for e in response.context["page"].object_list)


@pytest.mark.django_db
def test_bounces_filter_by_ip_campaign_provider_and_tenant(login, operator, traffic, tenant_b):
    client = login(operator)
    assert _cats(client.get("/bounces/?ip=10.0.0.1")) == [("bad-mailbox", 4), ("quota-issues", 2)]
    response = client.get(f"/bounces/?campaign={traffic['ca'].pk}")
    assert _cats(response) == [("bad-mailbox", 4), ("spam-related", 3)]
    assert {d["bounce_cat"] for d in response.context["diagnostics"]} == {"bad-mailbox", "spam-related"}
    # hotmail.fr is Microsoft's (the provider table in campaigns.selectors).
    response = client.get("/bounces/?provider=Microsoft")
    assert _cats(response) == [("spam-related", 3)]
    assert [d["sample"] for d in response.context["diagnostics"]] == ["bob@hotmail.fr"]
    response = client.get(f"/bounces/?tenant={tenant_b.pk}")
    assert _cats(response) == [("bad-domain", 50)] and response.context["totals"].hard_bounces == 50
    combined = client.get(f"/bounces/?tenant={tenant_b.pk}&ip=10.0.0.1")
    assert _cats(combined) == []


@pytest.mark.django_db
def test_bounce_links_keep_every_filter(login, operator, traffic):
    html = login(operator).get(f"/bounces/?ip=10.0.0.1&campaign={traffic['ca'].pk}").content.decode()
    # A category link narrows further and keeps the IP and campaign.
    assert f"/bounces/?ip=10.0.0.1&amp;campaign={traffic['ca'].pk}&amp;" in html
    assert "category=bad-mailbox" in html
    # The same filters in the message search, and a way back to every campaign.
    assert f"/messages/?ip=10.0.0.1&amp;campaign={traffic['ca'].pk}" in html
    assert "/bounces/?ip=10.0.0.1" in html and "all campaigns" in html


@pytest.mark.django_db
def test_a_tenant_cannot_filter_by_another_tenant(login, admin_a, traffic, tenant_b):
    client = login(admin_a)
    # The tenant filter is not theirs: ignored, their own scope stays.
    response = client.get(f"/bounces/?tenant={tenant_b.pk}")
    assert "tenant" not in response.context["form"].fields
    assert ("bad-domain", 50) not in _cats(response)
    assert client.get(f"/bounces/?campaign={traffic['cb'].pk}").status_code == 404
    assert client.get(f"/messages/?campaign={traffic['cb'].pk}").status_code == 404
    assert _cats(client.get("/bounces/?ip=10.0.1.1")) == []


@pytest.mark.django_db
def test_messages_filter_by_ip_provider_category_and_days(login, admin_a, operator, traffic, tenant_b):
    client = login(admin_a)
    assert _rcpts(client.get("/messages/?q=10.0.0.1")) == ["ann@gmail.com", "cy@orange.fr", "dan@gmail.com"]
    today = traffic["today"].isoformat()
    assert _rcpts(client.get(f"/messages/?q=10.0.0.1&start={today}")) == ["ann@gmail.com", "cy@orange.fr"]
    assert _rcpts(client.get("/messages/?q=10.0.0.1&provider=Gmail")) == ["ann@gmail.com", "dan@gmail.com"]
    assert _rcpts(client.get("/messages/?q=gmail.com&category=bad-mailbox")) == ["ann@gmail.com"]
    response = client.get(f"/messages/?campaign={traffic['ca'].pk}&ip=10.0.0.2")
    assert _rcpts(response) == ["bob@hotmail.fr"] and response.context["kind"] == "campaign"
    # Without an address, IP, domain or campaign: the latest day of the filtered events.
    response = client.get("/messages/?category=spam-related")
    assert _rcpts(response) == ["bob@hotmail.fr"] and response.context["kind"] == "filters"
    assert _rcpts(client.get("/messages/?ip=10.0.0.1")) == ["ann@gmail.com", "cy@orange.fr"]
    assert _rcpts(login(operator).get(f"/messages/?tenant={tenant_b.pk}")) == ["zed@gmail.com"]


@pytest.mark.django_db
def test_a_message_search_needs_something_to_search_for(login, viewer_a, traffic):
    response = login(viewer_a).get("/messages/?q=&provider=")
    assert "page" not in response.context
    assert "Enter an address, a domain or a sending IP" in response.content.decode()
    assert "zed@gmail.com" not in login(viewer_a).get("/messages/?provider=Gmail").content.decode()


@pytest.mark.django_db
def test_campaign_pages_link_to_their_bounces_and_messages(login, admin_a, traffic):
    client = login(admin_a)
    pk = traffic["ca"].pk
    detail = client.get(f"/campaigns/{pk}/").content.decode()
    assert f"/bounces/?campaign={pk}" in detail and f"/messages/?campaign={pk}" in detail
    listing = client.get("/campaigns/").content.decode()
    assert f"/bounces/?campaign={pk}" in listing and f"/messages/?campaign={pk}" in listing
