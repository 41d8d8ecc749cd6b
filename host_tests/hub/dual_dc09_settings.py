# The DC-09 path's config: report paths, the ack policy and the receiver's
# fields, each refusal naming its field.
from panel.config import ConfigError
from hub.settings import HubSettings

DC09 = {"host": "alarm.example.net", "port": 12128, "account": "12ab",
        "key": "0123456789ABCDEF0123456789ABCDEF", "receiver": 1, "line": "2A"}


def raw(**changes):
    r = {"hub_id": "hub-1", "secret": "00" * 32, "mqtt": {"host": "10.0.0.2"},
         "dc09": dict(DC09)}
    for k in changes:
        if k.startswith("dc09."):
            if changes[k] is None:
                r["dc09"].pop(k[5:], None)
            else:
                r["dc09"][k[5:]] = changes[k]
        else:
            r[k] = changes[k]
    return r


def paths(p, **changes):
    changes["dc09.paths"] = p
    return raw(**changes)


def field_of(cfg):
    try:
        HubSettings(cfg)
    except ConfigError as e:
        assert "0123456789ABCDEF" not in str(e)      # never the key in a message
        return e.field
    return None


def test_default_is_mqtt_only():
    s = HubSettings({"hub_id": "hub-1", "secret": "00" * 32, "mqtt": {"host": "h"}})
    assert s.dc09 is None and s.mqtt_host == "h"


def test_both_paths():
    s = HubSettings(raw(**{"dc09.ack": "first"}))
    assert s.paths == ["mqtt", "dc09"] and s.ack_first
    assert s.dc09.args == {"host": "alarm.example.net", "port": 12128, "account": "12AB",
                           "key": b"0123456789ABCDEF0123456789ABCDEF", "receiver": "1",
                           "line": "2A", "supervision_s": 240}
    assert s.dc09.paths == ["mqtt", "dc09"] and s.dc09.first
    assert HubSettings(raw(**{"dc09.key": None, "dc09.receiver": None})).dc09.args["key"] is None
    assert HubSettings(paths(["mqtt"])).dc09 is None          # DC-09 set up, but off
    assert not HubSettings(raw()).ack_first


def test_dc09_only_needs_no_broker():
    r = paths(["dc09"])
    del r["mqtt"]
    s = HubSettings(r)
    assert s.paths == ["dc09"] and s.mqtt_host is None


def test_bad_settings_are_refused_by_name():
    for change, field in (
            ({"dc09.paths": []}, "dc09.paths"), ({"dc09.paths": ["mqtt", "mqtt"]}, "dc09.paths"),
            ({"dc09.paths": ["sms"]}, "dc09.paths"), ({"dc09.paths": "mqtt"}, "dc09.paths"),
            ({"dc09.ack": "any"}, "dc09.ack"),
            ({"dc09": None}, "dc09"), ({"dc09": [1]}, "dc09"),
            ({"dc09.host": ""}, "dc09.host"), ({"dc09.host": None}, "dc09.host"),
            ({"dc09.port": 0}, "dc09.port"), ({"dc09.port": 70000}, "dc09.port"),
            ({"dc09.port": "12128"}, "dc09.port"), ({"dc09.port": True}, "dc09.port"),
            ({"dc09.account": "12"}, "dc09.account"), ({"dc09.account": "12345678901234567"},
                                                       "dc09.account"),
            ({"dc09.account": "12G4"}, "dc09.account"), ({"dc09.account": None}, "dc09.account"),
            ({"dc09.key": "0123456789ABCDE"}, "dc09.key"),
            ({"dc09.key": "0123456789ABCDEF0123456"}, "dc09.key"),
            ({"dc09.key": "0123456789ABCDEF0123456789ABCDEZ"}, "dc09.key"),
            ({"dc09.key": 1234}, "dc09.key"),
            ({"dc09.receiver": "1234567"}, "dc09.receiver"), ({"dc09.receiver": -1},
                                                                "dc09.receiver"),
            ({"dc09.line": ""}, "dc09.line"), ({"dc09.line": "L1"}, "dc09.line"),
            ({"dc09.supervision": 5}, "dc09.supervision"),
            ({"dc09.supervision": 86401}, "dc09.supervision"),
            ({"dc09.colour": "red"}, "dc09.colour")):
        assert field_of(raw(**change)) == field, (change, field_of(raw(**change)))
    assert field_of(raw(**{"dc09.supervision": 0})) is None
    # AES-192: the board does it in software (crypto/aes_soft.py).
    s = HubSettings(raw(**{"dc09.key": "0123456789abcdef01234567"}))
    assert s.dc09.args["key"] == b"0123456789abcdef01234567"
    r = raw()
    del r["mqtt"]
    assert field_of(r) == "mqtt.host"
    # The panel's config accepts the section (it refuses unknown top-level fields).
    from panel.config import Config
    import os
    Config(raw(), os.urandom)
