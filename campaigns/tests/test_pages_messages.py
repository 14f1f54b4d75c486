"""Message search: every retained event for one address, recipient domain, sending IP or campaign, scoped
to the tenant; substring searches are refused so no search scans the event table."""

from datetime import timedelta

import pytest

from campaigns.tests.page_factories import at, make_event, make_suppression
from core.dates import utc_today


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
    make_event(tenant_a, "alice@example.com", when=at(today - timedelta(days=40), 8), source_ip="203.0.113.9")
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
def test_it_searches_a_domain_within_the_retention(login, admin_a, events):
    response = login(admin_a).get("/messages/?q=Example.com")
    rcpts = {e.rcpt.lower() for e in response.context["page"].object_list}
    assert rcpts == {"bob@example.com"}  # alice's event is older than the retention, waiting for the prune
    assert response.context["kind"] == "domain"


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["bob", "@example.com", "bob@", "%", "a b@example.com"])
def test_it_refuses_anything_but_an_address_a_domain_or_an_ip(login, admin_a, events, q):
    response = login(admin_a).get("/messages/", {"q": q})
    assert response.status_code == 200
    assert "page" not in response.context
    assert "Enter a full email address" in response.content.decode()


@pytest.mark.django_db
def test_it_renders_the_empty_search_page(login, viewer_a):
    response = login(viewer_a).get("/messages/")
    assert response.status_code == 200
    assert "Enter a full email address" not in response.content.decode()


# Enough events that the planner's choice follows from statistics, not from an empty table: on a few rows
# any plan is as cheap as another, and PostgreSQL 15 and 18 break such ties differently.
BULK_EVENTS = 20_000


def _add_bulk_events(tenant_ids: list[int | None]) -> None:
    """BULK_EVENTS events spread over 5,000 other addresses and every scope, then ANALYZE.

    ANALYZE inside the test's transaction is rolled back with it, so no other test sees these statistics.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO campaigns_deliveryevent (
                time_logged, type, outcome, rcpt, rcpt_domain, orig, source_ip, vmta, dsn_status, dsn_diag,
                bounce_cat, feedback_type, campaign_key, tenant_id, message_id, job_id, fingerprint)
            SELECT now() - g * interval '1 minute', 'd', 'delivered', 'user' || g %% 5000 || '@example.net',
                   'example.net', '', '203.0.113.1', '', '', '', '', '', '', (%s::bigint[])[1 + g %% %s],
                   '', '', gen_random_uuid()
            FROM generate_series(1, %s) AS g
            """,
            [tenant_ids, len(tenant_ids), BULK_EVENTS],
        )
        cursor.execute("ANALYZE campaigns_deliveryevent")


def _plan_nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "operator"])
def test_it_uses_the_recipient_index(request, login, tenant_a, tenant_b, events, persona):
    """The search reads the event table only through an index led by the recipient: never a scan of
    the whole table, nor a walk down the time index filtering every row. Asserted on the index's columns
    (what the index guarantees), not on one plan shape, so any supported PostgreSQL major passes."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _add_bulk_events([tenant_a.pk, tenant_b.pk, None])
    with CaptureQueriesContext(connection) as ctx:
        response = login(request.getfixturevalue(persona)).get("/messages/?q=bob@example.com")
    assert response.status_code == 200
    search = next(
        q["sql"]
        for q in ctx.captured_queries
        if "campaigns_deliveryevent" in q["sql"] and "LIMIT" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + search)
        raw = cursor.fetchone()[0]
        plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = _plan_nodes(plan)
    event_scans = [n for n in nodes if n.get("Relation Name", "").startswith("campaigns_deliveryevent")]
    with connection.cursor() as cursor:
        # The plan's indexes that belong to the event table (or its partitions), with their definitions.
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
            " WHERE starts_with(t.relname, 'campaigns_deliveryevent') AND c.relname = ANY(%s)",
            [sorted({n["Index Name"] for n in nodes if "Index Name" in n})],
        )
        event_indexes = dict(cursor.fetchall())
        # The table is partitioned by day: a partition of a few rows (today's, in a test database made
        # this morning) is rightly read whole; every partition the bulk rows fill must go through the index.
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            [sorted({n["Relation Name"] for n in event_scans})],
        )
        rows = dict(cursor.fetchall())
    assert event_scans, plan
    assert any(rows[n["Relation Name"]] >= 1000 for n in event_scans), (rows, plan)
    assert all(n["Node Type"] != "Seq Scan" for n in event_scans if rows[n["Relation Name"]] >= 1000), plan
    assert event_indexes, plan
    assert all("(rcpt, time_logged)" in d for d in event_indexes.values()), (event_indexes, plan)


@pytest.mark.django_db
def test_it_searches_a_sending_ip_in_the_tenants_scope(login, admin_a, operator, events):
    response = login(admin_a).get("/messages/?q=203.0.113.1")
    assert response.context["kind"] == "ip"
    assert [e.type for e in response.context["page"].object_list] == ["f", "b", "d"]
    assert len(login(operator).get("/messages/?q=203.0.113.1").context["page"].object_list) == 5


@pytest.mark.django_db
def test_it_lists_a_campaigns_events_and_another_tenants_campaign_is_a_404(
    login, admin_a, admin_b, tenant_a, events
):
    from campaigns.tests.page_factories import make_campaign

    campaign = make_campaign(tenant_a, "spring", first=events, last=events)
    make_event(tenant_a, "carol@example.net", when=at(events, 14), campaign=campaign)
    response = login(admin_a).get(f"/messages/?campaign={campaign.pk}")
    assert response.context["kind"] == "campaign"
    assert [e.rcpt for e in response.context["page"].object_list] == ["carol@example.net"]
    assert login(admin_b).get(f"/messages/?campaign={campaign.pk}").status_code == 404


@pytest.mark.django_db
def test_the_count_stops_at_the_cap(login, admin_a, events, monkeypatch):
    from campaigns import views

    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 2)
    response = login(admin_a).get("/messages/?q=203.0.113.1")
    assert response.context["page"].paginator.capped
    assert "more than 2 total" in response.content.decode()


@pytest.mark.django_db
def test_pages_run_across_the_day_windows_in_order_and_stop_once_the_count_is_full(
    login, admin_a, tenant_a, tenant_b, events, monkeypatch, settings
):
    """The search reads the latest days first (selectors.search_windows) and stops at the window that
    fills its capped count; paging through gives every event once, newest first, whichever window
    holds it, and never another tenant's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import views

    settings.PAGE_SIZE = 2
    for days in (0, 1, 4, 12, 25):  # one per window and more
        make_event(
            tenant_a,
            f"d{days}@example.org",
            when=at(events - timedelta(days=days), 7),
            source_ip="198.51.100.7",
        )
        make_event(
            tenant_b,
            f"b{days}@example.org",
            when=at(events - timedelta(days=days), 8),
            source_ip="198.51.100.7",
        )
    client = login(admin_a)
    seen = []
    for number in (1, 2, 3):
        response = client.get(f"/messages/?q=198.51.100.7&page={number}")
        seen += [e.rcpt for e in response.context["page"].object_list]
    assert seen == [
        "d0@example.org",
        "d1@example.org",
        "d4@example.org",
        "d12@example.org",
        "d25@example.org",
    ]
    assert response.context["page"].paginator.count == 5 and not response.context["page"].paginator.capped

    make_event(tenant_a, "d0b@example.org", when=at(events, 6), source_ip="198.51.100.7")
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 1)  # today's two fill it: no older window is read
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/messages/?q=198.51.100.7")
    assert response.context["page"].paginator.capped
    assert [e.rcpt for e in response.context["page"].object_list] == ["d0@example.org"]
    reads = [q["sql"] for q in ctx.captured_queries if "campaigns_deliveryevent" in q["sql"]]
    assert len(reads) == 2, reads  # the first window's keys, then the page's rows


@pytest.mark.django_db
def test_an_address_is_read_whole_in_one_query(login, admin_a, events, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PAGE_SIZE = 1
    with CaptureQueriesContext(connection) as ctx:
        response = login(admin_a).get("/messages/?q=bob@example.com&page=2")
    reads = [q["sql"] for q in ctx.captured_queries if "campaigns_deliveryevent" in q["sql"]]
    assert len(reads) == 1, reads
    page = response.context["page"]
    assert page.paginator.count == 2 and [e.type for e in page.object_list] == ["b"]
