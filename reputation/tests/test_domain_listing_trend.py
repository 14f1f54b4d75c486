"""The domain page charts the domain's blocklist listings per day (reputation/domain_blocks.py): open at the
end of each day and found that day, 7 or 30 days, only that domain's listings, scoped like the page."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.dates import utc_today

pytestmark = pytest.mark.django_db


def _at(days_ago: int) -> datetime:
    return datetime.combine(utc_today() - timedelta(days=days_ago), time(12), UTC)


@pytest.fixture
def listed_domains(tenant_a, tenant_b):
    from domains.models import SendingDomain
    from reputation.models import Blocklist, Listing

    mine = SendingDomain.objects.create(
        tenant=tenant_a, name="trend-a.example", return_path_domain="rp.trend-a.example"
    )
    other = SendingDomain.objects.create(
        tenant=tenant_b, name="trend-b.example", return_path_domain="rp.trend-b.example"
    )
    dbl = Blocklist.objects.create(
        key="dbl-trend", name="DBL test", zone="dbl.test", kind="domain", enabled=True
    )
    # Found 3 days ago, cleared yesterday; found today and still open; the other domain's listing.
    Listing.objects.create(
        target=mine.name,
        target_kind="domain",
        domain=mine,
        blocklist=dbl,
        code="127.0.1.2",
        first_seen=_at(3),
        cleared_at=_at(1),
    )
    Listing.objects.create(
        target=mine.name,
        target_kind="domain",
        domain=mine,
        blocklist=dbl,
        code="127.0.1.2",
        first_seen=_at(0),
        last_seen=_at(0),
    )
    Listing.objects.create(
        target=other.name,
        target_kind="domain",
        domain=other,
        blocklist=dbl,
        code="127.0.1.2",
        first_seen=_at(2),
    )
    return {"mine": mine, "other": other}


def _card(response):
    [block] = [
        b for b in response.context["domain_blocks"] if b.template == "reputation/_listing_trend_card.html"
    ]
    return block.context["trend"]


def test_it_charts_the_domains_listings_per_day(login, admin_a, listed_domains):
    response = login(admin_a).get(f"/domains/{listed_domains['mine'].pk}/?days=7")
    assert response.status_code == 200
    trend = _card(response)
    assert trend["days"] == 7
    [chart] = trend["charts"]
    rows = dict(chart.table.rows)
    day = lambda n: (utc_today() - timedelta(days=n)).strftime("%m-%d")  # noqa: E731
    assert rows[day(4)] == ["0", "0"]
    assert rows[day(3)] == ["1", "1"]
    assert rows[day(2)] == ["1", "0"]  # the other domain's listing is not counted
    assert rows[day(1)] == ["0", "0"]  # cleared during the day
    assert rows[day(0)] == ["1", "1"]
    html = response.content.decode()
    assert "trend-a.example: blocklist listings per day" in html
    assert 'aria-current="page">7 days' in html


def test_an_operator_sees_only_that_domains_listings(login, operator, listed_domains):
    # The operator sees every tenant's listings: the domain page still counts only its own domain's.
    rows = dict(
        _card(login(operator).get(f"/domains/{listed_domains['mine'].pk}/?days=7"))["charts"][0].table.rows
    )
    day = lambda n: (utc_today() - timedelta(days=n)).strftime("%m-%d")  # noqa: E731
    assert rows[day(2)] == ["1", "0"]  # not ["2", "1"]: the other domain's listing found 2 days ago
    assert rows[day(0)] == ["1", "1"]


def test_the_default_is_30_days(login, viewer_a, listed_domains):
    trend = _card(login(viewer_a).get(f"/domains/{listed_domains['mine'].pk}/"))
    assert trend["days"] == 30 and len(trend["charts"][0].table.rows) == 30


def test_another_tenants_domain_is_404(login, admin_b, listed_domains):
    assert login(admin_b).get(f"/domains/{listed_domains['mine'].pk}/").status_code == 404


def test_the_query_count_does_not_grow_with_listings(login, operator, listed_domains):
    from reputation.models import Blocklist, Listing

    client = login(operator)
    url = f"/domains/{listed_domains['mine'].pk}/"

    def count() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx.captured_queries)

    few = count()
    for i in range(6):
        bl = Blocklist.objects.create(key=f"dbl-more-{i}", name=f"More {i}", zone=f"m{i}.test", kind="domain")
        Listing.objects.create(
            target=listed_domains["mine"].name,
            target_kind="domain",
            domain=listed_domains["mine"],
            blocklist=bl,
            code="127.0.1.2",
            first_seen=_at(i),
        )
    assert count() == few
