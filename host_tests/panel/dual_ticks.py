# Tick arithmetic across the ESP32's 2**30 ms wrap (runs under CPython and micropython).
from panel import ticks

TOP = ticks.PERIOD - 1


def test_add_wraps_to_zero():
    assert ticks.add(TOP, 1) == 0
    assert ticks.add(TOP, 5000) == 4999


def test_diff_is_signed_across_the_wrap():
    assert ticks.diff(4999, TOP) == 5000
    assert ticks.diff(TOP, 4999) == -5000
    assert ticks.diff(123, 123) == 0


def test_due_across_the_wrap():
    deadline = ticks.add(TOP - 100, 60000)
    assert not ticks.due(TOP, deadline)
    assert not ticks.due(ticks.add(TOP, 59898), deadline)
    assert ticks.due(ticks.add(TOP, 59900), deadline)
    assert not ticks.due(0, None)


def test_earliest_across_the_wrap():
    before = TOP - 10
    after = ticks.add(TOP, 10)
    assert ticks.earliest(before, after, before) == before
    assert ticks.earliest(before, None, after) == after
    assert ticks.earliest(before, before, None) == before


def test_since_is_an_age_that_never_goes_negative():
    assert ticks.since(4999, TOP) == 5000
    assert ticks.since(TOP, 4999) == ticks.PERIOD - 5000   # 12 days, not -5 s
    day = 24 * 3600 * 1000
    assert ticks.since(ticks.add(TOP, 7 * day), TOP) == 7 * day


def test_until_reads_deadlines_overdue_by_days():
    day = 24 * 3600 * 1000
    d = ticks.add(TOP, 60000)
    assert ticks.until(TOP, d) == 60000
    assert ticks.until(ticks.add(d, 7 * day), d) == -7 * day
    assert ticks.until(ticks.add(d, 12 * day), d) == -12 * day
    assert ticks.due(ticks.add(d, 7 * day), d)


def test_no_configurable_delay_reaches_past_the_deadline_horizon():
    # until() is exact only for deadlines set at most AHEAD ms ahead.
    from panel.config import TIMINGS
    for field, _, _, highest in TIMINGS:
        if field != "supervision":       # an age (since), not a deadline
            assert highest * 1000 < ticks.AHEAD, field
