# The wire format under both runtimes.
from uplink import wire
from uplink import wire_host

SECRET = b"k" * 32


def test_canonical_form():
    v = {"b": [1, True, None, False], "a": "x\"\\\n\x01\u00e9", "c": {"z": -3, "y": ""}}
    assert wire.canonical(v) == ('{"a":"x\\"\\\\\\n\\u0001\u00e9","b":[1,true,null,false],'
                                 '"c":{"y":"","z":-3}}').encode()


def test_canonical_refuses_floats():
    try:
        wire.canonical({"a": 1.5})
    except ValueError:
        return
    assert False, "a float was accepted"


def test_event_roundtrip_and_tamper():
    s = {"code": "E130", "event": 130, "qualifier": "E", "seq": 7, "zone": 1, "name": "front_door"}
    p = wire.event(SECRET, "hub-1", 1700000000, s)
    body = wire_host.check_event(SECRET, p, "hub-1")
    assert body["signal"] == s and body["time"] == 1700000000 and body["v"] == 1
    assert wire_host.check_event(SECRET, p, "hub-2") is None
    assert wire_host.check_event(b"other", p) is None
    assert wire_host.check_event(SECRET, p.replace(b'"seq":7', b'"seq":8')) is None
    assert wire_host.check_event(SECRET, b"{") is None


def test_ack_checks():
    obj = wire.parse(wire_host.ack(SECRET, "hub-1", [1, 2]))
    assert wire.check_ack(obj, "hub-1", SECRET) == [1, 2]
    assert wire.check_ack(obj, "hub-2", SECRET) is None
    assert wire.check_ack({"seqs": [1]}, "hub-1") == [1]
    assert wire.check_ack({"seqs": [1]}, "hub-1", SECRET) is None
    assert wire.check_ack({"seqs": [True]}, "hub-1") is None
    assert wire.check_ack({"seqs": "1"}, "hub-1") is None
