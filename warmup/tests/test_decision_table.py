"""The ramp's decision rules at their boundary values (thresholds: settings.SIGNAL_* via campaigns.stats)."""

import pytest

from campaigns.stats import Counts, thresholds
from warmup.decide import ADVANCE, COMPLETE, HOLD, OVER_LIMIT, PAUSE, STEP_BACK, Signals, decide

T = thresholds()


def run(step=3, steps=10, limit=1000, t=T, providers=None, listings=(), **counts):
    signals = Signals(counts=Counts(**counts), providers=providers or {}, critical_listings=listings)
    return decide(step=step, step_count=steps, daily_limit=limit, signals=signals, t=t)


def test_it_advances_only_above_90_percent_delivered():
    d = run(delivered=901)
    assert (d.action, d.to_step) == (ADVANCE, 4)
    assert d.reason.startswith("delivered 901 of 1,000 (90%) cap")
    d = run(delivered=900)
    assert (d.action, d.to_step) == (HOLD, 3)
    assert "not more than 90%" in d.reason


def test_the_issue_case_blocked_mail_does_not_advance():
    # 700 delivered, 250 blocked (spam-related soft bounces), 15 hard bounces out of a 1,000 cap.
    d = run(delivered=700, soft_bounces=250, blocked=250, hard_bounces=15)
    assert d.action != ADVANCE
    assert "250 of 965" in d.reason  # the block count and what it is out of


def test_it_never_advances_a_day_without_sends():
    d = run(delivered=0)
    assert d.action == HOLD
    assert "no sends" in d.reason


def test_it_pauses_at_exactly_0_3_percent_complaints():
    d = run(delivered=1000, complaints=3)
    assert d.action == PAUSE
    assert "complaints 3 of 1,000 (0.30%) delivered" in d.reason


def test_it_holds_on_complaints_between_hold_and_pause():
    assert run(delivered=1000, complaints=2).action == HOLD
    assert run(delivered=1000, complaints=0).action == ADVANCE


def test_it_pauses_at_5_percent_hard_bounces():
    assert run(delivered=950, hard_bounces=50).action == PAUSE
    assert run(delivered=951, hard_bounces=49).action == STEP_BACK


def test_it_steps_back_on_bounces_or_deferrals_but_not_below_step_one():
    d = run(delivered=960, hard_bounces=40)
    assert (d.action, d.to_step) == (STEP_BACK, 2)
    d = run(step=1, delivered=960, hard_bounces=40)
    assert (d.action, d.to_step) == (HOLD, 1)
    assert "already on step 1" in d.reason
    d = run(delivered=700, transient=300)
    assert (d.action, d.to_step) == (STEP_BACK, 2)
    assert "deferrals 300 of 1,000 (30%)" in d.reason


def test_it_holds_on_bounces_between_hold_and_step_back():
    d = run(delivered=975, hard_bounces=25)
    assert d.action == HOLD and "hard bounces 25 of 1,000 (2.5%)" in d.reason


def test_it_pauses_on_a_critical_listing_whatever_the_numbers():
    d = run(delivered=1000, listings=("Spamhaus ZEN",))
    assert d.action == PAUSE and "Spamhaus ZEN" in d.reason


def test_it_completes_after_a_clean_last_step():
    d = run(step=10, steps=10, delivered=1000)
    assert (d.action, d.to_step) == (COMPLETE, 10)


@pytest.mark.parametrize(("delivered", "expected"), [(801, ADVANCE), (800, HOLD)])
def test_it_uses_the_plans_own_thresholds(delivered, expected):
    t = thresholds(advance_min_ratio=0.8)
    assert run(t=t, delivered=delivered).action == expected


def test_it_records_the_numbers_it_used():
    d = run(delivered=950, hard_bounces=10, complaints=1, transient=5)
    assert d.numbers["attempted"] == 960
    assert d.numbers["hard_bounce_rate"] == round(10 / 960, 6)
    assert d.numbers["complaint_rate"] == round(1 / 950, 6)
    assert d.numbers["delivered_share"] == 0.95


def test_over_limit_sending_is_a_fault_not_an_advance():
    # The issue's case: 3,945 attempted against a 200 cap.
    d = run(limit=200, delivered=3945)
    assert d.action == OVER_LIMIT and d.to_step == 3
    assert "3,945" in d.reason and "200" in d.reason and "not being enforced" in d.reason
    # Within the tolerance it is an ordinary day.
    assert run(limit=1000, delivered=1040).action == ADVANCE


def test_gmail_blocking_while_yahoo_is_fine_holds_gmail_only():
    gmail = Counts(delivered=380, soft_bounces=20, blocked=20)  # 5% blocked: step back for Gmail
    yahoo = Counts(delivered=300)
    d = run(delivered=930, soft_bounces=20, blocked=20, providers={"gmail": gmail, "yahoo": yahoo})
    assert d.action == ADVANCE
    assert d.provider_actions == {"gmail": STEP_BACK, "yahoo": "ok"}
    assert "gmail blocks 20 of 400 (5.0%)" in d.reason


def test_blocks_on_every_provider_judge_the_ip():
    gmail = Counts(delivered=475, soft_bounces=25, blocked=25)
    yahoo = Counts(delivered=475, soft_bounces=25, blocked=25)
    d = run(delivered=950, soft_bounces=50, blocked=50, providers={"gmail": gmail, "yahoo": yahoo})
    assert d.action == STEP_BACK
    assert d.provider_actions == {"gmail": "ok", "yahoo": "ok"}
    assert "blocks 50 of 1,000 (5.0%)" in d.reason


def test_heavy_blocks_on_unsplit_traffic_pause_the_ip():
    d = run(delivered=700, soft_bounces=300, blocked=300)
    assert d.action == PAUSE and "blocks 300 of 1,000 (30%)" in d.reason
