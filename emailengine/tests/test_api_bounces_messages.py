"""The bounce explorer and message search through the API: the pages' selectors, filters and scope."""

import pytest

from campaigns.models import Campaign
from campaigns.tests.test_pages_bounces import bounces  # noqa: F401 (the pages' own data)
from testsupport.api import api_as

pytestmark = pytest.mark.django_db


def test_it_counts_bounces_by_category_in_the_tenants_scope(admin_a, bounces):  # noqa: F811
    body = api_as(admin_a).get("bounces").json()
    assert [(c["category"], c["bounces"]) for c in body["categories"]] == [
        ("bad-mailbox", 6),
        ("spam-related", 3),
        ("quota-issues", 2),
    ]
    assert body["totals"]["hard_bounces"] == 6
    top = body["diagnostics"]
    assert top[0]["text"] == "smtp;550 5.1.1 <…>: user unknown id …"
    assert (top[0]["count"], top[0]["hard"], top[0]["sample"], top[0]["category"]) == (
        3,
        3,
        "ann@gmail.com",
        "bad-mailbox",
    )
    assert "secret tenant b" not in str(body) and "bad-domain" not in str(body)


def test_it_filters_bounces_by_domain_and_category(admin_a, operator, bounces):  # noqa: F811
    api = api_as(admin_a)
    gmail = api.get("bounces", domain="GMAIL.com").json()
    assert [c["category"] for c in gmail["categories"]] == ["bad-mailbox", "quota-issues"]
    spam = api.get("bounces", category="spam-related").json()["diagnostics"]
    assert [d["sample"] for d in spam] == ["dan@orange.fr"]
    bad = api.get("bounces", domain="not a domain")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "domain"
    assert api_as(operator).get("bounces").json()["categories"][0] == {
        "category": "bad-domain",
        "bounces": 100,
    }


def test_it_searches_messages_in_the_tenants_scope(admin_a, admin_b, bounces):  # noqa: F811
    found = api_as(admin_a).get("messages", q="ann@gmail.com").json()
    assert (found["count"], found["capped"]) == (1, False)
    assert found["items"][0]["rcpt"] == "ann@gmail.com" and found["items"][0]["tenant"] == "tenant-a"
    domain = api_as(admin_a).get("messages", q="gmail.com").json()
    assert {e["rcpt"] for e in domain["items"]} == {
        "ann@gmail.com",
        "bob@gmail.com",
        "cy@gmail.com",
        "eve@gmail.com",
    }
    assert api_as(admin_b).get("messages", q="ann@gmail.com").json()["count"] == 0
    refused = api_as(admin_a).get("messages", q="ann")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "q"


def test_it_lists_a_campaigns_events_and_another_tenants_campaign_is_a_404(admin_a, bounces):  # noqa: F811
    mine = Campaign.objects.get(key="a1")
    other = Campaign.objects.get(key="b1")
    events = api_as(admin_a).get("messages", campaign=mine.pk).json()
    assert events["count"] == 3 and {e["campaign_id"] for e in events["items"]} == {mine.pk}
    assert api_as(admin_a).get("messages", campaign=other.pk).status_code == 404


def test_it_narrows_by_the_pages_drill_down_filters(admin_a, bounces):  # noqa: F811
    """The same ?ip=/?campaign=/?provider= the pages take, through the same form and selectors."""
    api = api_as(admin_a)
    mine = Campaign.objects.get(key="a1")
    by_campaign = api.get("bounces", campaign=mine.pk).json()
    assert sum(c["bounces"] for c in by_campaign["categories"]) <= sum(
        c["bounces"] for c in api.get("bounces").json()["categories"]
    )
    events = api.get("messages", campaign=mine.pk, provider="Gmail").json()
    assert {e["rcpt_domain"] for e in events["items"]} <= {"gmail.com", "googlemail.com"}
    bad_ip = api.get("messages", ip="not an ip")
    assert bad_ip.status_code == 422 and bad_ip.json()["errors"][0]["field"] == "ip"
    nothing = api.get("messages")
    assert nothing.status_code == 422
