# A power cut never disarms: the panel resumes from its snapshot.
import os
import json
from panel.config import Config
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG


def fresh(now=0):
    return Panel(Config(DEFAULT_CONFIG, os.urandom), now)


def codes(out):
    return [o["signal"]["code"] for o in out if "signal" in o]


def reboot(p, now, cause="power_on"):
    # The snapshot goes through JSON, as it does through flash.
    snap = json.loads(json.dumps(p.snapshot()))
    q = fresh(now)
    q.restore(snap, now, cause)
    return q


def keys(p, now, text):
    for k in text:
        p.press(now, k)


def test_armed_stays_armed_and_the_restart_is_reported():
    p = fresh()
    keys(p, 0, "1234A")
    p.zone(1000, "front_door", "open")
    p.zone(2000, "front_door", "close")
    p.tick(61000)
    assert p.state == "armed_away"
    last_seq = p.seq
    q = reboot(p, 100000, "power_on")
    out = q.take()
    assert q.state == "armed_away"
    restart = [o["signal"] for o in out if "signal" in o][0]
    assert restart["code"] == "E305" and restart["name"] == "power_on"
    assert restart["seq"] == last_seq + 1       # the sequence never repeats
    q.zone(200000, "front_door", "open")
    assert q.state == "pending"


def test_a_cut_during_the_entry_delay_starts_it_again():
    p = fresh()
    keys(p, 0, "1234A")
    p.zone(1000, "front_door", "open")
    p.zone(2000, "front_door", "close")
    p.tick(61000)
    p.zone(100000, "front_door", "open")
    assert p.state == "pending"
    q = reboot(p, 110000)
    q.take()
    assert q.state == "pending"
    q.tick(110000 + 30000)
    assert q.state == "triggered"
    q.tick(110000 + 60000)
    assert "E134" in codes(q.take())


def test_a_cut_inside_the_abort_window_sends_the_burglary_at_once():
    p = fresh()
    keys(p, 0, "1234B")
    p.tick(60000)
    p.zone(100000, "living_window", "open")
    assert "E130" not in codes(p.take())
    q = reboot(p, 105000)
    out = q.take()
    assert q.state == "triggered"
    assert {"siren": "steady"} in out
    assert "E130" in codes(out)


def test_a_cut_during_the_exit_delay_restarts_it():
    p = fresh()
    keys(p, 0, "1234A")
    q = reboot(p, 20000)
    assert q.state == "arming"
    q.tick(20000 + 59000)
    assert q.state == "arming"
    q.tick(20000 + 60000)
    assert q.state in ("armed_away", "armed_home")


def test_troubles_and_bypass_survive():
    p = fresh()
    p.zone(0, "hall_motion", "battery_low")
    keys(p, 0, "1234*103#")
    q = reboot(p, 1000)
    q.take()
    q.zone(2000, "hall_motion", "battery_ok")
    assert codes(q.take()) == ["R384"]
    q.zone(3000, "living_window", "open")
    keys(q, 3000, "1234B")
    assert q.state == "arming"      # zone 3 is still bypassed


def test_a_lockout_survives_a_power_cut_with_its_remaining_time():
    p = fresh()
    keys(p, 0, "0000C0000C0000C0000C0000C")
    assert p.lockout_end is not None
    p.tick(30000)                       # the hub saved 60 s before the end
    q = reboot(p, 5000)                 # ticks start again at boot
    q.take()
    keys(q, 6000, "1234C")
    assert {"keypad": "locked", "left_ms": 59000} in q.take()     # and the keypad says so
    assert q.state == "disarmed" and "E461" not in codes(q.take())
    keys(q, 5000 + 59000, "1234A")
    assert q.state == "disarmed"
    q.tick(5000 + 60000)
    assert {"keypad": "ready"} in q.take()
    keys(q, 5000 + 60000, "1234A")
    assert q.state == "arming"


def test_a_restored_lockout_runs_across_the_tick_wrap():
    top = (1 << 30) - 20000
    p = fresh(top)
    keys(p, top, "0000C0000C0000C0000C0000C")
    p.tick(top + 10000)                 # saved with 80 s left
    q = reboot(p, top + 15000)          # ends 75 s after the wrap
    q.take()
    assert q.command(q.now, {"action": "DISARM", "code": "1234"}) is False
    q.tick(74000)
    assert q.command(74000, {"action": "ARM_AWAY", "code": "1234"}) is False
    q.tick(75000)
    assert q.command(75000, {"action": "ARM_AWAY", "code": "1234"}) is True


def test_wrong_codes_in_a_row_survive_a_power_cut():
    p = fresh()
    keys(p, 0, "0000C0000C0000C0000C")
    q = reboot(p, 1000)
    q.take()
    keys(q, 2000, "0000C")
    assert "E421" in codes(q.take())
    assert q.lockout_end is not None


def test_a_restored_lockout_is_never_longer_than_the_configured_time():
    p = fresh()
    snap = p.snapshot()
    snap["lockout_ms"] = 10 ** 9        # a damaged file must not lock the keypad for days
    p.restore(snap, 0, "power_on")
    p.tick(90000)
    assert p.lockout_end is None


def test_a_cut_during_an_exit_error_sounds_the_local_alarm_again():
    p = fresh()
    keys(p, 0, "1234A")
    p.zone(30000, "front_door", "open")
    p.tick(60000)
    assert p.state == "pending" and p.siren == "steady"
    q = reboot(p, 65000)
    assert {"siren": "steady"} in q.take()
    q.tick(65000 + 30000)
    q.tick(65000 + 30000 + 30000)
    assert "E374" in codes(q.take())


def test_a_fire_while_armed_survives_a_cut_and_leaves_the_entry_delay_alone():
    p = fresh()
    keys(p, 0, "1234A")
    p.zone(1000, "front_door", "open")
    p.zone(2000, "front_door", "close")
    p.tick(61000)
    p.command(70000, {"action": "SOS", "service": "fire"})
    assert p.state == "triggered"
    q = reboot(p, 80000)
    out = q.take()
    assert q.state == "triggered" and {"siren": "temporal3"} in out
    q.zone(90000, "front_door", "open")
    assert "E134" not in codes(q.take())
    q.tick(90000 + 30000)             # the entry delay ran out
    q.tick(90000 + 60000)             # and then the abort window
    assert "E134" in codes(q.take())
