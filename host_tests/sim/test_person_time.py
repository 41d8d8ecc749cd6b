"""The page's countdowns to hub deadlines (tools/sim/clock.py HubTime): the
hub's ticks run N times fast except in the real-speed windows a person acts
within, across the 2**30 tick wrap; and What happened in words
(tools/sim/happened.py)."""
from tools.sim import happened
from tools.sim.clock import WRAP, HubTime


def test_ticks_run_fast_except_while_a_person_acts():
    t = HubTime(10)
    assert t.now(5.0) is None                       # no hub line yet
    t.sample(1000, received=100.0)
    assert t.now(101.0) == 1000 + 10_000
    t.person(100.5, 101.5)                          # real speed for this second
    assert t.now(101.0) == 1000 + 5_000 + 500
    assert t.now(102.0) == 1000 + 5_000 + 1_000 + 5_000
    t.person(101.2, 101.2)                          # cut short: back to fast from then
    assert t.now(102.0) == 1000 + 5_000 + 700 + 8_000


def test_a_deadline_across_the_tick_wrap_counts_down_to_zero():
    t = HubTime(1)
    t.sample(WRAP - 2000, received=0.0)
    deadline = (WRAP - 2000 + 30_000) % WRAP        # 30 s after, past the wrap
    assert t.left_ms(deadline, mono=0.0) == 30_000
    assert t.left_ms(deadline, mono=10.0) == 20_000
    assert t.left_ms(deadline, mono=40.0) == 0     # past: never negative


def test_what_happened_reads_in_words_with_the_code_beside():
    hub = {"source": "hub", "t": 0}
    assert happened.line_text(dict(hub, signal={"code": "E134", "name": "front_door"})) == \
        "Sent to the monitoring center: Burglary — front door (entry/exit) E134"
    assert happened.line_text(dict(hub, signal={"code": "E406", "name": "owner"})) == \
        "Sent to the monitoring center: Keypad cancel by owner E406"
    assert happened.line_text(dict(hub, state="pending")) == \
        "Entry delay: the code must be typed now"
    assert happened.line_text(dict(hub, keypad="wrong_code")) == "Keypad: wrong code"
    assert happened.line_text(dict(hub, log="alarm_aborted", user=1, zones=[3]),
                              users={1: "owner"}).startswith(
        "Alarm aborted at the keypad by owner")
    monitor = {"source": "monitor", "t": 0, "case": 2, "plan": "burglar"}
    assert happened.line_text(dict(monitor, step="dispatch", service="police",
                                   reason="no_answer")) == \
        "Monitoring center, case 2 (burglary): Dispatched the police (nobody answered)"
    assert happened.zone_text("front_door", "open") == "Front door opened"
    assert happened.command_text({"action": "SOS", "service": "fire"}) == \
        "SOS fire pressed in the app"
