"""campaigns.stats: the one definition of counts, blocks and rates, and how rates are shown."""

import pytest
from django.template import Context, Template

from campaigns.models import DailyStat
from campaigns.stats import Counts, block_q, format_rate, is_block, sums, thresholds


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0147, "1.5%"),
        (0.00012, "0.012%"),
        (0.25, "25%"),
        (1.0, "100%"),
        (0.0, "0%"),
        (None, "—"),
        (0.0996, "10%"),
        (0.003, "0.30%"),
    ],
)
def test_it_shows_rates_with_two_significant_digits(value, shown):
    assert format_rate(value) == shown


def test_the_template_filter_uses_the_same_rule():
    out = Template("{% load rates %}{{ a|rate }} {{ b|rate }}").render(Context({"a": 0.0147, "b": None}))
    assert out == "1.5% —"


def test_attempted_and_rates():
    c = Counts(delivered=700, hard_bounces=15, soft_bounces=250, blocked=250, transient=35, complaints=7)
    assert c.attempted == 965
    assert c.bounce_rate == 265 / 965
    assert c.hard_bounce_rate == 15 / 965
    assert c.block_rate == 250 / 965
    assert c.delivered_rate == 700 / 965
    assert c.complaint_rate == 7 / 700  # against delivered
    assert c.deferral_rate == 35 / 1000
    assert Counts().bounce_rate is None and Counts().complaint_rate is None


@pytest.mark.parametrize(
    ("cat", "status", "diag", "block"),
    [
        ("spam-related", "5.0.0", "", True),
        ("policy-related", "", "", True),
        ("other", "5.7.1 (delivery not authorized)", "", True),
        ("other", "", "smtp;421 4.7.28 Gmail has detected an unusual rate", True),
        ("bad-mailbox", "5.1.1", "smtp;550 5.1.1 user unknown", False),
        ("other", "5.1.10", "", False),
        ("quota-issues", "4.2.2", "", False),
        ("other", "15.7.1", "", False),
    ],
)
def test_a_block_is_a_block_category_or_an_x_7_x_code(cat, status, diag, block):
    assert is_block(cat, status, diag) is block


def test_the_thresholds_are_settings(settings):
    settings.SIGNAL_HOLD_BOUNCE_RATE = 0.01
    assert thresholds().hold_bounce_rate == 0.01
    assert thresholds(hold_bounce_rate=0.04).hold_bounce_rate == 0.04


def test_level_badges_follow_the_thresholds():
    assert Counts(delivered=1000).level == "ok"
    assert Counts(delivered=975, hard_bounces=25).level == "warning"
    assert Counts(delivered=940, hard_bounces=60).level == "error"
    assert Counts(delivered=1000, complaints=3).level == "error"


@pytest.mark.django_db
def test_blocks_are_summed_from_the_aggregates_categories():
    DailyStat.objects.create(
        day="2026-01-01",
        source_ip="192.0.2.1",
        delivered=100,
        soft_bounces=12,
        bounce_categories={"spam-related": 5, "policy-related": 3, "quota-issues": 4},
        transient=6,
        transient_categories={"policy-related": 2, "no-answer-from-host": 4},
    )
    c = Counts.from_row(DailyStat.objects.aggregate(**sums(DailyStat)))
    assert (c.attempted, c.blocked, c.blocked_deferrals) == (112, 8, 2)


@pytest.mark.django_db
def test_block_q_matches_is_block_in_sql():
    from datetime import UTC, datetime
    from uuid import uuid4

    from campaigns.models import DeliveryEvent

    rows = [("other", "5.7.1 (x)"), ("spam-related", ""), ("other", "5.1.1"), ("other", "15.7.1")]
    for cat, status in rows:
        DeliveryEvent.objects.create(
            time_logged=datetime.now(UTC),
            type="b",
            outcome="soft_bounce",
            bounce_cat=cat,
            dsn_status=status,
            fingerprint=uuid4(),
        )
    found = set(DeliveryEvent.objects.filter(block_q()).values_list("bounce_cat", "dsn_status"))
    assert found == {("other", "5.7.1 (x)"), ("spam-related", "")}


@pytest.mark.django_db
def test_it_computes_the_same_rates_in_sql_as_in_python():
    """rate_sql and Counts read one table of definitions (RATE_PARTS): same numbers, None for no data."""
    from django.db.models import IntegerField, Value

    from campaigns.stats import COUNT_FIELDS, RATE_PARTS, attempted_sql, rate_sql
    from tenants.models import Tenant

    Tenant.objects.create(name="t", slug="t")
    samples = [
        Counts(delivered=950, hard_bounces=20, soft_bounces=30, blocked=5, transient=40, complaints=2),
        Counts(),
        Counts(hard_bounces=3),
    ]
    for counts in samples:
        exprs = {name: Value(getattr(counts, name), output_field=IntegerField()) for name in COUNT_FIELDS}
        figures = {name: rate_sql(name, exprs) for name in RATE_PARTS}
        row = Tenant.objects.annotate(attempted=attempted_sql(exprs), **figures).values(
            "attempted", *RATE_PARTS
        )[0]
        assert row["attempted"] == counts.attempted
        for name in RATE_PARTS:
            expected = getattr(counts, name)
            assert row[name] == (None if expected is None else pytest.approx(expected)), name
