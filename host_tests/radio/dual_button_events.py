# Which button events raise a panic: only the defined press events the zone
# names (default: a long press), never a release, a "none" or an unknown code.
import os

from radio import bthome
from radio import bthome_encode
from radio.sensors import Sensors
from panel.config import Config, ConfigError, button_events

BUTTON = "00:00:00:00:00:06"
CODES = {"none": 0x00, "press": 0x01, "double_press": 0x02, "triple_press": 0x03,
         "long_press": 0x04, "long_double_press": 0x05, "long_triple_press": 0x06,
         "hold_press": 0x80, "hold_release": 0x81, "undefined_07": 0x07,
         "undefined_7f": 0x7F, "undefined_fe": 0xFE, "undefined_ff": 0xFF}


def _panics(events=None):
    # {code name: True when that button event raised the zone's press}
    out = {}
    pid = 0
    for name in sorted(CODES):
        s = Sensors()
        s.add(BUTTON, "panic_button", "panic", button_events=events)
        pid += 1
        adv = bthome_encode.encode([("packet_id", pid), ("button", CODES[name])], BUTTON)
        out[name] = ("panic_button", "press") in s.advert(BUTTON, adv)
    return out


def test_by_default_only_a_long_press_is_a_panic():
    got = _panics()
    assert [n for n in sorted(got) if got[n]] == ["long_press"]


def test_the_zone_option_chooses_the_events():
    got = _panics(("press", "double_press", "hold_press"))
    assert [n for n in sorted(got) if got[n]] == ["double_press", "hold_press", "press"]


def test_a_release_or_an_undefined_code_never_panics_whatever_the_option():
    every = tuple(n for n in CODES if n not in ("none", "hold_release")
                  and not n.startswith("undefined"))
    got = _panics(every)
    assert [n for n in sorted(got) if not got[n]] == [
        "hold_release", "none", "undefined_07", "undefined_7f", "undefined_fe", "undefined_ff"]


def _zone(**extra):
    z = {"number": 6, "name": "panic_button", "type": "panic"}
    for k in extra:
        z[k] = extra[k]
    return {"zones": [z], "users": [{"number": 1, "name": "owner", "code": "1234"}]}


def test_config_default_and_accepted_values():
    assert button_events({}, "zones[0]") == ("long_press",)
    Config(_zone(button_events=["press", "long_press"]), os.urandom)
    assert button_events({"button_events": ["press"]}, "zones[0]") == ("press",)


def test_config_refuses_what_is_not_a_press_naming_the_field():
    for bad in (["hold_release"], ["none"], ["long"], [], "long_press", [4], None, ["press", 1]):
        try:
            Config(_zone(button_events=bad), os.urandom)
        except ConfigError as e:
            assert e.field == "zones[0].button_events", (bad, e.field)
            continue
        raise AssertionError("accepted %r" % (bad,))
