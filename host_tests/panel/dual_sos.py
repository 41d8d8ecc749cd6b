# A fire or medical alarm never changes how the burglary side behaves.
import os
from panel.config import Config
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG


def fresh():
    return Panel(Config(DEFAULT_CONFIG, os.urandom), 0)


def keys(p, now, text):
    for k in text:
        p.press(now, k)


def codes(out):
    return [o["signal"]["code"] for o in out if "signal" in o]


def test_a_medical_sos_during_the_exit_delay_does_not_stop_the_arming():
    p = fresh()
    keys(p, 0, "1234A")
    p.zone(1000, "front_door", "open")
    p.zone(2000, "front_door", "close")
    p.command(10000, {"action": "SOS", "service": "medical"})
    assert p.state == "triggered" and p.buzzer == "alarm"
    p.tick(60000)
    assert p.phase == "armed_away" and p.state == "triggered"
    assert p.buzzer == "alarm"            # the end of the exit beeps leaves it on
    p.zone(100000, "front_door", "open")
    assert p.phase == "pending"           # an entry delay, not an instant alarm
    keys(p, 110000, "1234C")
    out = p.take()
    assert "E134" not in codes(out) and "E130" not in codes(out)
    assert "E406" in codes(out)           # the medical signal is cancelled
    assert p.state == "disarmed" and p.buzzer == "off"


def test_a_fire_zone_while_armed_keeps_the_abort_window_for_a_burglary():
    p = fresh()
    keys(p, 0, "1234B")
    p.tick(60000)
    p.zone(70000, "kitchen_smoke", "open")
    p.take()
    p.zone(80000, "living_window", "open")
    assert "E130" not in codes(p.take())  # held in the abort window
    p.tick(110000)
    assert "E130" in codes(p.take())
    assert p.siren == "temporal3"         # fire keeps its pattern
