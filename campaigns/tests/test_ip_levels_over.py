"""trends.ip_levels_over: the addresses ip_levels judges above "ok", read with the JSONB block categories
summed only for addresses that can be at a threshold (stats.at_threshold_sql)."""

from datetime import timedelta

import pytest
from django.test import override_settings

from campaigns.tests.page_factories import make_stat
from campaigns.trends import ip_levels, ip_levels_over
from core.dates import utc_today

pytestmark = pytest.mark.django_db


def _over(**kwargs):
    return {address: value for address, value in ip_levels(**kwargs).items() if value[1] != "ok"}


@pytest.fixture
def stats(tenant_a, tenant_b):
    today = utc_today()
    rows = {
        "10.0.0.1": {"delivered": 1000},  # ok for tenant A alone
        "10.0.0.2": {"delivered": 900, "hard": 100},  # hard bounces: pause
        "10.0.0.3": {"delivered": 970, "hard": 30},  # hard bounces: hold
        "10.0.0.4": {"delivered": 1000, "complaints": 2},  # complaints: hold
        # blocks: hold (6%)
        "10.0.0.5": {"delivered": 900, "soft": 100, "categories": {"spam-related": 60, "other": 40}},
        "10.0.0.6": {"delivered": 900, "soft": 100, "categories": {"other": 100}},  # soft, no block: ok
        # blocks exactly at the hold threshold
        "10.0.0.7": {"delivered": 980, "soft": 20, "categories": {"policy-related": 20}},
        "10.0.0.8": {"soft": 5, "categories": {"spam-related": 5}},  # nothing delivered, all blocked
        "10.0.0.9": {"transient": 50},  # no outcome: no rate
    }
    for address, counts in rows.items():
        for back in (0, 3):
            make_stat(None, today - timedelta(days=back), tenant=tenant_a, source_ip=address, **counts)
    # Old traffic outside the window and another tenant's traffic on an address.
    make_stat(None, today - timedelta(days=10), tenant=tenant_a, source_ip="10.0.0.1", hard=1000)
    make_stat(None, today, tenant=tenant_b, source_ip="10.0.0.1", hard=1000)
    return rows


def test_it_keeps_exactly_the_addresses_over_a_threshold(stats, tenant_a, tenant_b):
    over = ip_levels_over()
    assert over == _over()
    assert set(over) == {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.7", "10.0.0.8"}
    assert over["10.0.0.2"][1] == "error" and over["10.0.0.3"][1] == "warning"
    for tenant in (tenant_a, tenant_b):
        assert ip_levels_over(tenant_id=tenant.pk) == _over(tenant_id=tenant.pk)
    assert "10.0.0.1" not in ip_levels_over(tenant_id=tenant_a.pk)


@override_settings(SIGNAL_HOLD_BLOCK_RATE=0.0, SIGNAL_HOLD_COMPLAINT_RATE=0.5, SIGNAL_PAUSE_BLOCK_RATE=0.9)
def test_a_zero_threshold_keeps_every_address_as_rate_level_does(stats):
    over = ip_levels_over()
    assert over == _over()
    assert "10.0.0.9" in over  # no rate reads 0, which is at a 0 threshold


def test_it_follows_the_block_categories_and_thresholds_between_calls(stats):
    # The statement is compiled once per window, thresholds and categories: a change must not reuse it.
    assert "10.0.0.6" not in ip_levels_over()
    with override_settings(SIGNAL_BLOCK_CATEGORIES=["other"]):
        over = ip_levels_over()
        assert over == _over()
        assert "10.0.0.6" in over
    with override_settings(SIGNAL_HOLD_BOUNCE_RATE=0.5, SIGNAL_PAUSE_BOUNCE_RATE=0.5):
        over = ip_levels_over()
        assert over == _over()
        assert "10.0.0.3" not in over
    assert ip_levels_over() == _over()
