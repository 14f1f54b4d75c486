"""Message search: every event for one address (or a domain, recent days only), scoped to the tenant;
substring searches are refused so no search scans the event table."""

from datetime import timedelta

import pytest

from campaigns.selectors import utc_today
from campaigns.tests.page_factories import at, make_event, make_suppression


@pytest.fixture
def events(tenant_a, tenant_b):
    today = utc_today()
    make_event(
        tenant_a,
        "Bob@Example.com",
        when=at(today, 9),
        type="d",
        outcome="delivered",
        dsn_status="2.0.0 (success)",
    )
    make_event(
        tenant_a,
        "bob@example.com",
        when=at(today, 10),
        type="b",
        outcome="hard_bounce",
        dsn_status="5.1.1 (bad destination mailbox address)",
        dsn_diag="smtp;550 5.1.1 user unknown",
        bounce_cat="bad-mailbox",
    )
    make_event(
        tenant_a, "bob@example.com", when=at(today, 11), type="f", outcome="complaint", feedback_type="abuse"
    )
    make_event(tenant_a, "alice@example.com", when=at(today - timedelta(days=20), 8))
    make_event(tenant_b, "bob@example.com", when=at(today, 12), dsn_diag="tenant b secret")
    make_event(None, "bob@example.com", when=at(today, 13), dsn_diag="unknown tenant")
    make_suppression(tenant_a, "bob@example.com", reason="hard_bounce")
    return today


def diags(response) -> list[str]:
    return [e.dsn_diag for e in response.context["page"].object_list]


@pytest.mark.django_db
def test_it_lists_every_event_for_an_address_in_the_tenants_scope(login, admin_a, viewer_a, events):
    for user in (admin_a, viewer_a):
        response = login(user).get("/messages/?q=bob@example.com")
        assert response.status_code == 200
        page = response.context["page"].object_list
        assert [e.type for e in page] == ["f", "b"]  # newest first
        html = response.content.decode()
        assert "tenant b secret" not in html and "unknown tenant" not in html
        assert "smtp;550 5.1.1 user unknown" in html and "suppressed" in html


@pytest.mark.django_db
def test_it_finds_the_case_pmta_wrote_when_typed_that_way(login, admin_a, events):
    response = login(admin_a).get("/messages/?q=Bob@Example.com")
    assert [e.type for e in response.context["page"].object_list] == ["f", "b", "d"]


@pytest.mark.django_db
def test_it_shows_an_operator_every_tenant_and_unknown_ones(login, operator, events):
    response = login(operator).get("/messages/?q=bob@EXAMPLE.com")
    assert diags(response)[:2] == ["unknown tenant", "tenant b secret"]
    assert len(response.context["page"].object_list) == 4


@pytest.mark.django_db
def test_it_searches_a_domain_within_recent_days(login, admin_a, events):
    response = login(admin_a).get("/messages/?q=Example.com")
    rcpts = {e.rcpt.lower() for e in response.context["page"].object_list}
    assert rcpts == {"bob@example.com"}  # alice's event is older than the domain window
    assert response.context["kind"] == "domain"


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["bob", "@example.com", "bob@", "%", "a b@example.com"])
def test_it_refuses_anything_but_an_address_or_a_domain(login, admin_a, events, q):
    response = login(admin_a).get("/messages/", {"q": q})
    assert response.status_code == 200
    assert "page" not in response.context
    assert "Enter a full email address" in response.content.decode()


@pytest.mark.django_db
def test_it_renders_the_empty_search_page(login, viewer_a):
    response = login(viewer_a).get("/messages/")
    assert response.status_code == 200
    assert "Enter a full email address" not in response.content.decode()


@pytest.mark.django_db
def test_it_uses_the_tenant_rcpt_index(login, admin_a, events, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        login(admin_a).get("/messages/?q=bob@example.com")
    search = next(
        q["sql"]
        for q in ctx.captured_queries
        if "campaigns_deliveryevent" in q["sql"] and "LIMIT" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + search)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "event_tenant_rcpt" in plan
