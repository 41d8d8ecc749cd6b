# AC loss (Contact ID 301): a trouble reported once the mains has stayed off
# for ac_loss_delay, restored once it has held again; a blip says nothing.
# No siren, no change of arming. Across the 2**30 tick wrap and a reboot.
import os
import json
from panel.config import Config, ConfigError
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG

WRAP = 1 << 30
START = WRAP - 20000         # every run crosses the tick wrap


def fresh(now=START, **config):
    raw = json.loads(json.dumps(DEFAULT_CONFIG))
    raw.update(config)
    p = Panel(Config(raw, os.urandom), now)
    p.take()
    return p


def run(p, start, ms, on, every=10):
    # The hub's loop: the level every `every` ms for `ms`; returns the ticks after.
    t = start
    end = start + ms
    while t < end:
        p.mains(t % WRAP, on)
        p.tick(t % WRAP)
        t += every
    return t


def signals(p):
    return [o["signal"] for o in p.take() if "signal" in o]


def noisy(p):
    return [o for o in p.take() if "siren" in o or "state" in o]


def test_the_default_delay_is_a_minute_and_its_range_is_checked():
    assert fresh().ac.delay_ms == 60000
    for bad in (9, 1801, "60", True):
        raw = json.loads(json.dumps(DEFAULT_CONFIG))
        raw["ac_loss_delay"] = bad
        try:
            Config(raw, os.urandom)
        except ConfigError as e:
            assert e.field == "ac_loss_delay"
        else:
            raise AssertionError("ac_loss_delay %r accepted" % (bad,))


def test_a_loss_longer_than_the_delay_is_reported_once_then_its_restore():
    p = fresh()
    t = run(p, START, 5000, True)
    assert signals(p) == []
    t = run(p, t, 59000, False)           # off for 59 s: still within the delay
    assert signals(p) == []
    t = run(p, t, 2000, False)
    sigs = signals(p)
    assert [s["code"] for s in sigs] == ["E301"]
    assert sigs[0]["zone"] == 0 and "name" not in sigs[0]
    assert t % WRAP < START               # reported across the wrap
    t = run(p, t, 600000, False)          # ten minutes more on the battery: told once
    assert signals(p) == []
    t = run(p, t, 9000, True)             # back, not yet held for restore_ms
    assert signals(p) == []
    t = run(p, t, 2000, True)
    assert [s["code"] for s in signals(p)] == ["R301"]
    run(p, t, 120000, True)
    assert signals(p) == []


def test_a_blip_shorter_than_the_delay_sends_nothing():
    p = fresh()
    t = run(p, START, 1000, True)
    for _ in range(5):                     # a storm's flickers, each under the delay
        t = run(p, t, 50000, False)
        t = run(p, t, 3000, True)
    run(p, t, 120000, True)
    assert signals(p) == []


def test_the_delay_is_the_configs():
    p = fresh(ac_loss_delay=300)
    t = run(p, START, 299000, False, every=1000)
    assert signals(p) == []
    run(p, t, 2000, False, every=1000)
    assert [s["code"] for s in signals(p)] == ["E301"]


def test_a_loss_is_a_trouble_no_siren_no_change_of_arming():
    p = fresh()
    for k in "1234A":
        p.press(START, k)
    t = run(p, START, 61000, True)          # the exit delay runs out
    armed = p.state
    assert armed in ("armed_home", "armed_away")
    p.take()
    run(p, t, 61000, False)
    out = p.take()
    assert [o["signal"]["code"] for o in out if "signal" in o] == ["E301"]
    assert [o for o in out if "siren" in o or "state" in o] == []
    assert {"buzzer": "trouble"} in out     # the keypad's trouble beep, as every trouble
    assert p.state == armed and p.siren == "off"


def reboot(p, now):
    snap = json.loads(json.dumps(p.snapshot()))
    q = fresh(now)
    q.restore(snap, now, "power_on")
    q.take()
    return q


def test_a_hub_that_boots_with_the_mains_off_reports_it_after_the_delay():
    q = reboot(fresh(), START)
    t = run(q, START, 59000, False)
    assert signals(q) == []
    run(q, t, 2000, False)
    assert [s["code"] for s in signals(q)] == ["E301"]


def test_a_reported_loss_is_owed_its_restore_after_a_reboot():
    p = fresh()
    run(p, START, 61000, False)
    assert [s["code"] for s in signals(p)] == ["E301"]
    q = reboot(p, 5000)
    t = run(q, 5000, 600000, False)        # still off: not told twice
    assert signals(q) == []
    run(q, t, 11000, True)
    assert [s["code"] for s in signals(q)] == ["R301"]
    assert reboot(q, 0).ac.lost is False


def test_no_restore_for_a_loss_that_was_never_reported():
    p = fresh()
    run(p, START, 30000, False)
    q = reboot(p, 0)
    run(q, 0, 60000, True)
    assert signals(q) == []
