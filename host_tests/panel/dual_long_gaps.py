# "How long since" across hours, days and several 2**30 ms tick wraps: every
# age in the panel saturates, none wraps round to look recent.
import os
from panel import ticks
from panel.config import Config
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG

HOUR = 3600000
DAY = 24 * HOUR
WRAP = ticks.PERIOD
# Gaps with no input at all in between (the board stalled, or a test jumping).
JUMPS = (3 * HOUR, 6 * DAY + 5 * HOUR, 7 * DAY, 11 * DAY, 12 * DAY)
STARTS = (0, WRAP - 30000, WRAP // 2 + 12345)


def fresh(now):
    return Panel(Config(DEFAULT_CONFIG, os.urandom), now)


def codes(out):
    return [o["signal"]["code"] for o in out if "signal" in o]


def alarm_codes(out):
    # Silent sensors are reported lost over days; only the burglary matters here.
    return [c for c in codes(out) if c in ("E130", "E459")]


def keys(p, now, text):
    for k in text:
        p.press(now, k)


def at(t0, ms):
    return ticks.add(t0, ms)


def run_ticks(p, t0, start, end):
    # The hub's loop: the panel is ticked at least as often as it asks.
    t = start
    while t < end:
        d = p.next_due()
        step = ticks.diff(d, at(t0, t)) if d is not None else 60000
        t = min(end, t + max(1, step))
        p.tick(at(t0, t))
    return t


def armed_home(t0):
    p = fresh(t0)
    keys(p, t0, "1234B")
    p.tick(at(t0, 60000))
    assert p.state == "armed_home"
    p.take()
    return p


def test_a_burglary_within_two_minutes_of_arming_is_a_recent_closing():
    for t0 in STARTS:
        p = armed_home(t0)
        p.zone(at(t0, 100000), "living_window", "open")
        p.tick(at(t0, 130000))
        assert alarm_codes(p.take()) == ["E130", "E459"], t0


def test_a_burglary_days_after_arming_is_not_a_recent_closing():
    for t0 in STARTS:
        for gap in JUMPS:
            p = armed_home(t0)
            p.zone(at(t0, 60000 + gap), "living_window", "open")
            p.tick(at(t0, 60000 + gap + 30000))
            assert alarm_codes(p.take()) == ["E130"], (t0, gap)


def test_a_burglary_after_several_wraps_is_not_a_recent_closing():
    # Regularly ticked, as on the board, for two and a half wraps.
    for t0 in STARTS[:2]:
        p = armed_home(t0)
        t = run_ticks(p, t0, 60000, 60000 + 2 * WRAP + WRAP // 2)
        assert alarm_codes(p.take()) == []
        p.zone(at(t0, t), "living_window", "open")
        p.tick(at(t0, t + 30000))
        assert alarm_codes(p.take()) == ["E130"], t0


def test_a_burglary_landing_on_the_arming_tick_a_wrap_later_is_not_a_recent_closing():
    # Exactly 2**30 ms after arming the tick value repeats.
    p = armed_home(0)
    run_ticks(p, 0, 60000, 60000 + WRAP + 1000)
    p.take()
    p.zone(at(0, 60000 + WRAP + 1000), "living_window", "open")
    p.tick(at(0, 60000 + WRAP + 31000))
    assert alarm_codes(p.take()) == ["E130"]


def test_a_closing_of_an_earlier_armed_period_never_flags_a_later_alarm():
    p = fresh(0)
    keys(p, 0, "1234B")
    p.tick(60000)                     # closed at 60 s
    keys(p, 70000, "1234C")
    keys(p, 80000, "1234B")           # a new period; its exit delay runs
    p.take()
    p.zone(100000, "living_window", "open")
    p.tick(130000)
    assert alarm_codes(p.take()) == ["E130"]


def test_a_key_pressed_days_ago_is_not_part_of_the_next_entry():
    for t0 in STARTS:
        for gap in JUMPS:
            p = armed_home(t0)
            keys(p, at(t0, 70000), "5")
            keys(p, at(t0, 70000 + gap), "1234C")
            out = p.take()
            assert p.state == "disarmed", (t0, gap, out)
            assert "E461" not in codes(out)


def test_a_key_pressed_several_wraps_ago_is_not_part_of_the_next_entry():
    p = armed_home(WRAP - 30000)
    keys(p, at(WRAP - 30000, 70000), "5")
    t = run_ticks(p, WRAP - 30000, 70000, 70000 + 3 * WRAP)
    keys(p, at(WRAP - 30000, t), "1234C")
    assert p.state == "disarmed"
    assert "E461" not in codes(p.take())


def test_a_sensor_silent_for_days_is_reported_lost():
    for t0 in STARTS:
        for gap in JUMPS:
            p = fresh(t0)
            p.take()
            p.tick(at(t0, gap))
            lost = codes(p.take())
            assert lost and set(lost) == {"E381"}, (t0, gap, lost)


def test_deadlines_overdue_by_days_still_fire():
    for t0 in STARTS:
        for gap in JUMPS:
            p = fresh(t0)
            keys(p, t0, "1234A")
            p.tick(at(t0, gap))
            assert p.state == "armed_home", (t0, gap)    # auto-stay: nobody left


def test_the_lockout_ends_after_a_long_gap():
    for gap in JUMPS:
        p = fresh(0)
        keys(p, 0, "0000C0000C0000C0000C0000C")
        assert p.lockout_end is not None
        keys(p, gap, "1234A")
        assert p.state == "arming", gap
