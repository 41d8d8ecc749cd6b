# The hub's own config and the board's pins: every refusal names its field.
import json
from panel.config import ConfigError
from hub.settings import HubSettings, Board

BASE = {"hub_id": "hub-1", "secret": "00" * 32, "wifi": {"ssid": "home", "password": "secret-pw"},
        "mqtt": {"host": "10.0.0.2"}}


def _board(name):
    for root in ("boards/", "../../boards/", "../boards/"):
        try:
            with open(root + name + ".json") as f:
                return json.loads(f.read())
        except OSError:
            pass
    raise OSError("no board file " + name)


def refused(fn, *args):
    try:
        fn(*args)
    except ConfigError as e:
        return e
    return None


def config(**changes):
    raw = json.loads(json.dumps(BASE))
    for k in changes:
        if "." in k:
            sec, key = k.split(".")
            raw[sec][key] = changes[k]
        else:
            raw[k] = changes[k]
    return raw


def test_wifi_settings_of_the_wrong_type_are_refused_by_name():
    for field, value in (("ssid", 12345), ("ssid", ["home"]), ("ssid", "x" * 33),
                         ("password", 12345678), ("password", {"a": 1}), ("password", "short")):
        e = refused(HubSettings, config(**{"wifi." + field: value}))
        assert e is not None and e.field == "wifi." + field, (field, value, e)
    s = HubSettings(config(**{"wifi.password": None}))      # an open network
    assert s.wifi_password is None
    assert HubSettings(config()).wifi_password == "secret-pw"


def test_a_topic_too_long_for_umqtt_subscribe_is_refused_at_config_time():
    # <prefix>/<hub>/commands: 122 bytes is the most umqtt.simple <= 1.7 can subscribe to.
    hub = "h" * 60
    ok = "p" * (122 - len("/" + hub + "/commands"))
    HubSettings(config(hub_id=hub, **{"mqtt.prefix": ok}))
    e = refused(HubSettings, config(hub_id=hub, **{"mqtt.prefix": ok + "x"}))
    assert e is not None and e.field == "hub_id" and "122" in str(e), e
    e = refused(HubSettings, config(hub_id="hub", **{"mqtt.prefix": "a/" * 40 + "b" * 40}))
    assert e is not None and e.field == "mqtt.prefix", e
    e = refused(HubSettings, config(**{"mqtt.prefix": "alarm/+"}))
    assert e is not None and e.field == "mqtt.prefix", e


def test_hub_id_is_an_ascii_topic_level_and_a_user_needs_a_password():
    for bad in ("hub 1", "hub/1", "hüb", "hub+", "hub#"):
        e = refused(HubSettings, config(hub_id=bad))
        assert e is not None and e.field == "hub_id", bad
    e = refused(HubSettings, config(**{"mqtt.user": "hub"}))
    assert e is not None and e.field == "mqtt.password", e
    e = refused(HubSettings, config(ntp=5))
    assert e is not None and e.field == "ntp"
    assert HubSettings(config(ntp=False)).ntp is None
    assert HubSettings(config()).ntp == "pool.ntp.org"


def wired(*pins):
    zones = [{"name": "z%d" % n, "number": n + 1, "type": "contact", "wired": True, "pin": p}
             for n, p in enumerate(pins)]
    return HubSettings(config(zones=zones))


def test_wired_zone_pins_are_checked_against_the_board():
    board = Board(_board("esp32_devkitc"))
    for pin, why in ((6, "flash's"), (11, "flash's"), (34, "pull-up"), (39, "pull-up"),
                     (24, "not exist"), (20, "not exist"), (1, "reserved"), (3, "reserved"),
                     (13, "already used")):
        s = wired(18, pin)
        e = refused(board.check_inputs, s.wired, s.wired_fields)
        assert e is not None and e.field == "zones[1].pin", (pin, e)
        assert why.split()[-1] in str(e), (pin, str(e))
    s = wired(18, 19, 21)
    board.check_inputs(s.wired, s.wired_fields)
    s = wired(18, 18)
    e = refused(board.check_inputs, s.wired, s.wired_fields)
    assert e is not None and e.field == "zones[1].pin"
    s3 = Board(_board("esp32s3_devkitc1"))
    for pin in (26, 32, 35, 19, 43, 22):
        s = wired(pin)
        e = refused(s3.check_inputs, s.wired, s.wired_fields)
        assert e is not None and e.field == "zones[0].pin", (pin, e)
    s = wired(12, 13, 14)
    s3.check_inputs(s.wired, s.wired_fields)


def test_the_wrover_board_keeps_the_psram_pins_off_the_zones():
    # ESP32-WROVER: GPIO 16 and 17 drive the PSRAM, so no zone or keypad line
    # may use them; the rest of the pin map is the WROOM DevKitC's.
    board = Board(_board("esp32_wrover"))
    assert 16 not in board.rows + board.cols and 17 not in board.rows + board.cols
    for pin, why in ((16, "flash's"), (17, "flash's"), (6, "flash's"), (34, "pull-up"),
                     (1, "reserved")):
        s = wired(18, pin)
        e = refused(board.check_inputs, s.wired, s.wired_fields)
        assert e is not None and e.field == "zones[1].pin" and why in str(e), (pin, e)
    s = wired(*board.inputs)
    board.check_inputs(s.wired, s.wired_fields)


def test_a_board_file_with_bad_pins_is_refused_by_name():
    raw = _board("esp32_devkitc")
    raw["keypad"]["cols"][1] = 35          # input-only: no pull-up for a column
    e = refused(Board, raw)
    assert e is not None and e.field == "board.keypad.cols[1]", e
    raw = _board("esp32_devkitc")
    raw["siren"]["pin"] = 36                # input-only: cannot drive the siren
    e = refused(Board, raw)
    assert e is not None and e.field == "board.siren.pin", e
    raw = _board("esp32_devkitc")
    raw["keypad"]["rows"][0] = 7            # flash
    e = refused(Board, raw)
    assert e is not None and e.field == "board.keypad.rows[0]", e
    raw = _board("esp32_devkitc")
    del raw["pins"]
    e = refused(Board, raw)
    assert e is not None and e.field == "board.pins", e


def test_the_mains_sense_is_optional_and_refused_by_name_when_wrong():
    raw = _board("esp32_devkitc")
    assert "mains_sense" not in raw and Board(raw).mains_sense is None
    raw["mains_sense"] = {"pin": 34, "present": 1}      # input-only: the divider drives it
    assert Board(raw).mains_sense == (34, 1)
    raw["mains_sense"] = {"pin": 35}
    assert Board(raw).mains_sense == (35, 1)
    for sense, field in (([34], "board.mains_sense"),
                         ({"present": 1}, "board.mains_sense.pin"),
                         ({"pin": 34, "present": 2}, "board.mains_sense.present"),
                         ({"pin": 34, "present": True}, "board.mains_sense.present"),
                         ({"pin": 7}, "board.mains_sense.pin"),       # the flash's
                         ({"pin": 23}, "board.mains_sense.pin"),      # the siren's
                         ({"pin": 13}, "board.mains_sense.pin")):     # a keypad row
        raw["mains_sense"] = sense
        e = refused(Board, raw)
        assert e is not None and e.field == field, (sense, e)
    raw["mains_sense"] = {"pin": 18}
    board = Board(raw)
    e = refused(board.check_inputs, [("front_door", 18)], ["zones[0].pin"])
    assert e is not None and e.field == "zones[0].pin"
