# A wrong config is refused with an error naming the field.
import os
from panel.config import Config, ConfigError

USERS = [{"number": 1, "name": "owner", "code": "1234"}]
ZONES = [{"number": 1, "name": "front_door", "type": "contact", "delayed": True}]


def refused(raw):
    try:
        Config(raw, os.urandom)
    except ConfigError as e:
        return e.field, str(e)
    raise AssertionError("config was accepted: %r" % (raw,))


def base(**changes):
    raw = {"zones": [dict(z) for z in ZONES], "users": [dict(u) for u in USERS]}
    for k in changes:
        raw[k] = changes[k]
    return raw


def test_good_config_loads_with_defaults():
    cfg = Config(base(), os.urandom)
    assert cfg.exit_delay == 60000 and cfg.entry_delay == 30000
    assert cfg.abort_window == 30000 and cfg.siren_time == 240000
    assert cfg.exit_delay_home == 60000
    assert cfg.lockout_attempts == 5 and cfg.lockout_time == 90000
    assert len(cfg.zones) == 1 and len(cfg.codes.entries) == 1


def test_codes_are_kept_only_as_salted_hashes():
    cfg = Config(base(users=[{"number": 1, "name": "a", "code": "1234"},
                             {"number": 2, "name": "b", "code": "4321"}]), os.urandom)
    for e in cfg.codes.entries:
        for part in e:
            assert part != "1234" and part != "4321"
    a, b = cfg.codes.entries
    assert a[4] != b[4]          # each code has its own salt
    assert cfg.codes.find("1234")[0] == 1
    assert cfg.codes.find("9999") is None


def test_code_hash_form_is_accepted():
    cfg = Config(base(), os.urandom)
    stored = cfg.codes.stored(1)
    again = Config(base(users=[{"number": 1, "name": "owner", "code_hash": stored}]), os.urandom)
    assert again.codes.find("1234")[0] == 1


def test_unknown_zone_type():
    field, msg = refused(base(zones=[{"number": 1, "name": "x", "type": "laser"}]))
    assert field == "zones[0].type" and "laser" in msg


def test_duplicate_zone_number():
    field, _ = refused(base(zones=[{"number": 1, "name": "a", "type": "contact"},
                                   {"number": 1, "name": "b", "type": "contact"}]))
    assert field == "zones[1].number"


def test_duplicate_zone_name():
    field, _ = refused(base(zones=[{"number": 1, "name": "a", "type": "contact"},
                                   {"number": 2, "name": "a", "type": "contact"}]))
    assert field == "zones[1].name"


def test_delay_out_of_range():
    assert refused(base(exit_delay=30))[0] == "exit_delay"
    assert refused(base(entry_delay=241))[0] == "entry_delay"
    assert refused(base(abort_window=46))[0] == "abort_window"
    assert refused(base(exit_delay_home=10))[0] == "exit_delay_home"
    assert refused(base(entry_delay="30"))[0] == "entry_delay"


def test_exit_delay_home_may_be_zero():
    assert Config(base(exit_delay_home=0), os.urandom).exit_delay_home == 0


def test_short_code():
    field, msg = refused(base(users=[{"number": 1, "name": "a", "code": "123"}]))
    assert field == "users[0].code" and "4 to 8" in msg
    assert refused(base(users=[{"number": 1, "name": "a", "code": "123456789"}]))[0] == "users[0].code"
    assert refused(base(users=[{"number": 1, "name": "a", "code": "12a4"}]))[0] == "users[0].code"


def test_duress_too_close_to_a_user_code():
    for duress in ("1234", "1235", "124", "12345", "0234", "1243", "2134"):
        field, msg = refused(base(users=[
            {"number": 1, "name": "a", "code": "1234"},
            {"number": 9, "name": "d", "code": duress, "role": "duress"}]))
        assert field == "users[1].code", (duress, field)
    Config(base(users=[{"number": 1, "name": "a", "code": "1234"},
                       {"number": 9, "name": "d", "code": "2143", "role": "duress"}]), os.urandom)


def test_unknown_fields_are_named():
    assert refused(base(exit_dealy=60))[0] == "exit_dealy"
    assert refused(base(zones=[{"number": 1, "name": "a", "type": "contact", "delay": True}]))[0] \
        == "zones[0].delay"
    assert refused(base(users=[{"number": 1, "name": "a", "code": "1234", "pin": 1}]))[0] \
        == "users[0].pin"


def test_other_field_errors():
    assert refused(base(zones=[{"name": "a", "type": "contact"}]))[0] == "zones[0].number"
    assert refused(base(zones=[{"number": 1, "name": "", "type": "contact"}]))[0] == "zones[0].name"
    assert refused(base(zones=[{"number": 1, "name": "a", "type": "motion", "modes": ["night"]}]))[0] \
        == "zones[0].modes"
    assert refused(base(zones=[{"number": 1, "name": "a", "type": "panic", "delayed": True}]))[0] \
        == "zones[0].delayed"
    assert refused(base(zones=[{"number": 1, "name": "a", "type": "contact", "delayed": True,
                                "follower": True}]))[0] == "zones[0].follower"
    assert refused(base(users=[{"number": 1, "name": "a", "code": "1234", "role": "boss"}]))[0] \
        == "users[0].role"
    assert refused(base(users=[{"number": 1, "name": "a"}]))[0] == "users[0].code"
    assert refused(base(users=[{"number": 1, "name": "a", "code_hash": "md5$x"}]))[0] \
        == "users[0].code_hash"
    assert refused(base(chirps="yes"))[0] == "chirps"
    assert refused(base(zones={}))[0] == "zones"
    assert refused([])[0] == "config"


def test_alarm_when_disarmed_is_a_tamper_zone_option():
    tamper = {"number": 7, "name": "hub_tamper", "type": "tamper", "wired": True,
              "alarm_when_disarmed": True}
    cfg = Config(base(zones=ZONES + [tamper]), os.urandom)
    assert cfg.zones.flags[1] & 0x100
    field, _ = refused(base(zones=[dict(ZONES[0], alarm_when_disarmed=True)]))
    assert field == "zones[0].alarm_when_disarmed"
    field, _ = refused(base(zones=[dict(tamper, alarm_when_disarmed="yes")]))
    assert field == "zones[0].alarm_when_disarmed"


def test_a_null_is_refused_where_the_field_is_not_optional():
    assert refused(base(exit_delay=None))[0] == "exit_delay"
    assert refused(base(lockout_attempts=None))[0] == "lockout_attempts"
    # exit_delay_home may be left out (it follows exit_delay): null is the same.
    assert Config(base(exit_delay_home=None), os.urandom).exit_delay_home == 60000
