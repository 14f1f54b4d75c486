import itertools

from warmup.presets import PRESETS, SPARKPOST_STAGES, days_to_reach


def test_it_ships_the_three_published_shapes():
    by_key = {p.key: p for p in PRESETS}
    assert [s.daily for s in by_key["sparkpost"].steps] == SPARKPOST_STAGES
    ses = by_key["ses-45"].steps
    assert len(ses) == 45 and ses[0].daily == 200 and ses[-1].daily == 50_000
    fast = [s.daily for s in by_key["fast-x1.4"].steps]
    assert all(1.3 < b / a < 1.5 for a, b in itertools.pairwise(fast[:-1]))


def test_every_step_keeps_providers_under_the_daily_limit():
    for preset in PRESETS:
        for step in preset.steps:
            assert sum(step.providers.values()) <= step.daily
            assert step.hourly * 12 >= step.daily


def test_it_counts_days_to_reach_a_volume():
    assert days_to_reach([200, 500, 1000], 500) == 2
    assert days_to_reach([200, 500, 1000], 200) == 1
    assert days_to_reach([200, 500, 1000], 5000) is None
