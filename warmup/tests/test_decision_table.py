"""The ramp's decision rules at their boundary values."""

import pytest

from warmup.decide import ADVANCE, COMPLETE, HOLD, PAUSE, STEP_BACK, DaySignals, Thresholds, decide

T = Thresholds()


def run(step=3, steps=10, limit=1000, t=T, **signals):
    return decide(step=step, step_count=steps, daily_limit=limit, signals=DaySignals(**signals), t=t)


def test_it_advances_at_exactly_90_percent_of_the_limit():
    d = run(delivered=900)
    assert (d.action, d.to_step) == (ADVANCE, 4)
    assert d.numbers["sent_ratio"] == 0.9


def test_it_holds_at_89_9_percent_of_the_limit():
    d = run(limit=10_000, delivered=8_990)
    assert (d.action, d.to_step) == (HOLD, 3)
    assert "under 90.00%" in d.reason


def test_it_never_advances_a_day_without_sends():
    d = run(delivered=0)
    assert d.action == HOLD
    assert "no sends" in d.reason


def test_it_pauses_at_exactly_0_3_percent_complaints():
    d = run(delivered=1000, complaints=3)
    assert d.action == PAUSE
    assert "complaints 0.30%" in d.reason


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


def test_it_holds_on_bounces_between_hold_and_step_back():
    d = run(delivered=975, hard_bounces=25)
    assert d.action == HOLD and "hard bounces 2.50%" in d.reason


def test_it_pauses_on_a_critical_listing_whatever_the_numbers():
    d = run(delivered=1000, critical_listings=("Spamhaus ZEN",))
    assert d.action == PAUSE and "Spamhaus ZEN" in d.reason


def test_it_completes_after_a_clean_last_step():
    d = run(step=10, steps=10, delivered=1000)
    assert (d.action, d.to_step) == (COMPLETE, 10)


@pytest.mark.parametrize(("ratio", "expected"), [(0.8, ADVANCE), (0.79, HOLD)])
def test_it_uses_the_plans_own_thresholds(ratio, expected):
    t = Thresholds(advance_min_ratio=0.8)
    assert run(t=t, delivered=int(1000 * ratio)).action == expected


def test_it_records_the_numbers_it_used():
    d = run(delivered=900, hard_bounces=10, complaints=1, transient=5)
    assert d.numbers["attempted"] == 910
    assert d.numbers["hard_bounce_rate"] == round(10 / 910, 5)
    assert d.numbers["complaint_rate"] == round(1 / 900, 5)
