"""Provider data as charts (issue 16): Gmail spam rate per domain, SNDS complaint rate and trap hits per IP,
with the shared chart component; a day without data is a gap, never a zero."""

from datetime import UTC, datetime, timedelta

import pytest

from domains.models import SendingDomain
from reputation.models import PostmasterDomainStat, SndsIpStat
from reputation.provider_charts import PROVIDER_DAYS, day_axis, ip_snds, snds_charts

pytestmark = pytest.mark.django_db
TODAY = datetime.now(UTC).date()


def snds_row(address, day, *, rate, traps, result="GREEN", hour=16):
    end = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return SndsIpStat.objects.create(
        address=address,
        activity_start=end - timedelta(hours=23),
        activity_end=end,
        day=day,
        recipients=1000,
        filter_result=result,
        complaint_rate=rate,
        complaint_rate_text="< 0.1%" if rate == 0.001 else f"{rate * 100:.1f}%",
        trap_hits=traps,
    )


def test_snds_days_without_data_are_gaps_and_periods_of_a_day_combine():
    day = TODAY - timedelta(days=1)
    rows = [
        snds_row("192.0.2.10", day, rate=0.001, traps=2, hour=8),
        snds_row("192.0.2.10", day, rate=0.025, traps=3, hour=20),
    ]
    days = day_axis(until=TODAY, days=3)
    complaint, traps = snds_charts("192.0.2.10", rows, days)
    assert [cells for _, cells in complaint.table.rows] == [["—"], ["2.5%"], ["—"]]
    assert [cells for _, cells in traps.table.rows] == [["—"], ["5"], ["—"]]
    assert "'< 0.1%' drawn at 0.1%" in complaint.title


def test_the_provider_page_draws_each_domain_and_ip_with_the_shared_chart(login, operator, inventory):
    day = TODAY - timedelta(days=1)
    PostmasterDomainStat.objects.create(domain=inventory.dom_a, day=day, spam_rate=0.0041)
    snds_row(inventory.ip_a.address, day, rate=0.025, traps=12, result="RED")
    page = login(operator).get("/reputation/providers/").content.decode()
    assert 'aria-label="Gmail user-reported spam rate, a-sender.example"' in page
    assert f'aria-label="Microsoft SNDS complaint rate, {inventory.ip_a.address}' in page
    assert f'aria-label="Microsoft SNDS trap hits, {inventory.ip_a.address}"' in page
    # The thresholds are labelled lines; the figures are in the chart's table too.
    assert "stay under 0.10%" in page and "tenant held at 0.30%" in page and "0.41%" in page
    # The CSP forbids inline styles: no style attribute on the page's own markup.
    assert 'style="' not in page.split("<main", 1)[-1]


def test_a_tenant_sees_charts_of_its_own_domains_and_ips_only(login, admin_b, inventory):
    day = TODAY - timedelta(days=1)
    PostmasterDomainStat.objects.create(domain=inventory.dom_a, day=day, spam_rate=0.0041)
    snds_row(inventory.ip_a.address, day, rate=0.025, traps=12)
    page = login(admin_b).get("/reputation/providers/").content.decode()
    assert "a-sender.example" not in page and inventory.ip_a.address not in page


def test_the_ip_page_has_an_snds_card_with_its_charts(login, admin_a, inventory):
    day = TODAY - timedelta(days=1)
    snds_row(inventory.ip_a.address, day, rate=0.025, traps=12, result="RED")
    page = login(admin_a).get(f"/ips/{inventory.ip_a.pk}/").content.decode()
    assert "Microsoft SNDS" in page and "Latest filter result" in page and ">RED<" in page
    assert f'aria-label="Microsoft SNDS trap hits, {inventory.ip_a.address}"' in page
    empty = ip_snds("192.0.2.99", until=TODAY)
    assert (
        empty.rows == []
        and empty.complaint_chart.empty
        and len(empty.complaint_chart.table.rows) == PROVIDER_DAYS
    )


def test_an_ip_without_snds_data_says_so(login, admin_a, inventory):
    page = login(admin_a).get(f"/ips/{inventory.ip_a.pk}/").content.decode()
    assert f"No Microsoft SNDS data for this IP in the last {PROVIDER_DAYS} days" in page


def test_a_postmaster_domain_chart_spans_the_whole_window(inventory):
    from reputation.provider_charts import postmaster_domains

    PostmasterDomainStat.objects.create(
        domain=inventory.dom_a, day=TODAY - timedelta(days=2), spam_rate=0.002
    )
    stats = PostmasterDomainStat.objects.select_related("domain")
    (data,) = postmaster_domains(stats, day_axis(until=TODAY, days=PROVIDER_DAYS))
    assert data.name == "a-sender.example" and len(data.chart.table.rows) == PROVIDER_DAYS
    assert sum(1 for _, cells in data.chart.table.rows if cells != ["—"]) == 1
    assert SendingDomain.objects.count() == 2


def test_the_provider_page_costs_the_same_queries_for_one_domain_or_many(
    login, operator, inventory, tenant_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reputation.models import ProviderAccount

    client = login(operator)
    day = TODAY - timedelta(days=1)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/reputation/providers/").status_code == 200
        return len(ctx.captured_queries)

    PostmasterDomainStat.objects.create(domain=inventory.dom_a, day=day, spam_rate=0.001)
    snds_row(inventory.ip_a.address, day, rate=0.001, traps=0)
    ProviderAccount.objects.create(kind="snds", label="one", snds_key="abcd-1234")
    one = count()
    for n in range(4):
        domain = SendingDomain.objects.create(
            tenant=tenant_a, name=f"d{n}.example", return_path_domain="rp.example"
        )
        PostmasterDomainStat.objects.create(domain=domain, day=day, spam_rate=0.002)
        ProviderAccount.objects.create(kind="snds", label=f"more-{n}", tenant=tenant_a, snds_key="abcd-1234")
    snds_row(inventory.ip_b.address, day, rate=0.001, traps=1)
    assert count() == one
