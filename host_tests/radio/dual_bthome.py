# BTHome v2 decoding and encoding under both interpreters.
import binascii

from crypto import ccm
from crypto import ccm_host
from radio import bthome
from radio import bthome_encode
from radio import bthome_host
from radio.bthome import BTHomeError

h = binascii.unhexlify

KEY = h("231d39c1d7cc1ab1aee224cd096db932")
MAC = "54:48:E6:8F:80:A5"
TEMP_HUM = h("41a47266c95f730011223378237214")
MOTION = h("4187b90011223372b0231f")


def _error(data, mac=MAC, key=None):
    try:
        bthome.decode(data, mac, key)
    except BTHomeError as e:
        return e
    raise AssertionError("decoded without error: %s" % binascii.hexlify(data))


def _reason(data, mac=MAC, key=None):
    return _error(data, mac, key).reason


def test_published_vector_temperature_humidity():
    r = bthome.decode(TEMP_HUM, MAC, KEY)
    assert r["encrypted"] is True and r["trigger"] is False
    assert r["counter"] == 0x33221100
    assert r["mac"] == MAC
    assert [(o["id"], o["name"], o["value"]) for o in r["objects"]] == [
        (0x02, "temperature", 25.06), (0x03, "humidity", 50.55)]
    assert bthome_host.values(r) == {"temperature": 25.06, "humidity": 50.55}


def test_published_vector_motion():
    r = bthome.decode(MOTION, MAC, KEY)
    assert r["counter"] == 0x33221100
    assert r["objects"] == [{"id": 0x21, "name": "motion", "value": 1}]


def test_encode_reproduces_published_vectors():
    got = bthome_encode.encode([("temperature", 25.06), ("humidity", 50.55)], MAC, KEY, 0x33221100)
    assert got == TEMP_HUM
    assert bthome_encode.encode([{"name": "motion", "value": True}], MAC, KEY, 0x33221100) == MOTION


def test_mac_is_accepted_in_any_case_and_separator():
    for mac in ("54:48:e6:8f:80:a5", "54-48-E6-8F-80-A5", "5448E68F80A5"):
        assert bthome.decode(MOTION, mac, KEY)["mac"] == MAC


def test_plain_packet():
    # Shelly BLU H&T style: packet id, battery, humidity (uint8), temperature (0.1)
    r = bthome.decode(h("40000c01642e3245e1ff"), MAC)
    assert r["encrypted"] is False and r["counter"] is None
    assert bthome_host.values(r) == {"packet_id": 12, "battery": 100, "humidity": 50,
                                "temperature": -3.1}


def test_trigger_flag_and_button_events():
    r = bthome.decode(h("44" "3a01" "3a04" "3a80" "3a00"), MAC)
    assert r["trigger"] is True
    assert [o["event"] for o in r["objects"]] == ["press", "long_press", "hold_press", None]
    assert bthome_host.values(r) == {"button": 1, "button_2": 4, "button_3": 0x80, "button_4": 0}


def test_mac_included_in_packet_is_used():
    data = h("42" "a5808fe64854" "1a01")
    r = bthome.decode(data, "00:00:00:00:00:00")
    assert r["mac"] == MAC and r["objects"][0]["name"] == "door"


def test_alarm_objects_round_trip():
    objs = [("packet_id", 5), ("battery", 90), ("voltage", 3.012), ("opening", 1),
            ("battery_low", 0), ("door", 1), ("motion", 1), ("occupancy", 0),
            ("sound", 1), ("tamper", 1), ("vibration", 0), ("window", 1),
            ("button", 2), ("rotation", -12.5), (0x45, -21.5), (0x2E, 55)]
    for key in (None, KEY):
        data = bthome_encode.encode(objs, MAC, key, counter=7)
        r = bthome.decode(data, MAC, key)
        assert [o["value"] for o in r["objects"]] == [v for _, v in objs]
        assert r["encrypted"] == (key is not None)


def test_every_object_round_trips_at_its_extremes():
    for spec in bthome_host.all_objects():
        oid, size, signed, dec, mult = spec[0], spec[2], spec[3], spec[4], spec[5]
        if not size:
            continue        # text, raw, command: dual_bthome_objects.py
        bits = 8 * size
        raws = (-(1 << (bits - 1)), -1, 0, 1, (1 << (bits - 1)) - 1) if signed else (
            0, 1, (1 << bits) - 1)
        for raw in raws:
            value = raw * mult / 10 ** dec if dec else raw
            for key in (None, KEY):
                r = bthome.decode(bthome_encode.encode([(oid, value)], MAC, key, 99), MAC, key)
                assert r["objects"][0]["id"] == oid
                assert r["objects"][0]["value"] == value, (oid, raw)


def test_forged_or_damaged_mic_rejected():
    for i in range(1, len(TEMP_HUM)):
        bad = bytearray(TEMP_HUM)
        bad[i] ^= 0x40
        assert _reason(bytes(bad), key=KEY) == "bad MIC"
    # info byte flags are in the nonce: turning on the trigger bit breaks the MIC
    bad = bytearray(TEMP_HUM)
    bad[0] |= 0x04
    assert _reason(bytes(bad), key=KEY) == "bad MIC"


def test_wrong_key_or_mac_is_a_bad_mic():
    assert _reason(TEMP_HUM, key=bytes(16)) == "bad MIC"
    assert _reason(TEMP_HUM, mac="54:48:E6:8F:80:A6", key=KEY) == "bad MIC"


def test_truncated_packets():
    assert _reason(b"") == "short packet"
    assert _reason(h("4002ca")) == "short packet"
    assert _reason(h("41a47266"), key=KEY) == "short packet"
    for n in range(len(TEMP_HUM)):
        assert _reason(TEMP_HUM[:n], key=KEY) in ("short packet", "bad MIC")
    assert _reason(h("42a5808f")) == "short packet"


def test_wrong_version():
    for info in (0x00, 0x01, 0x20, 0x21, 0x60, 0x80, 0xE0, 0xFF):
        assert _reason(bytes((info,)) + h("1a01")) == "not BTHome v2"


def test_unknown_object_ends_decoding_and_keeps_what_came_before():
    r = bthome.decode(h("4002ca09fe00"), MAC)
    assert bthome_host.values(r) == {"temperature": 25.06} and r["unknown"] == 2


def test_key_mismatches():
    assert _reason(TEMP_HUM) == "encrypted but no key"
    assert _reason(h("401a01"), key=KEY) == "key given but packet not encrypted"
    assert _reason(h("401a01"), key=b"short") == "bad key"
    assert _reason(h("401a01"), mac="nope") == "bad MAC"


def test_only_a_forgery_has_the_forged_code():
    bad = bytearray(TEMP_HUM)
    bad[3] ^= 0x40
    assert _error(bytes(bad), key=KEY).code == bthome.FORGED
    assert _error(TEMP_HUM, key=bytes(16)).code == bthome.FORGED
    assert _error(h("401a01"), key=KEY).code == bthome.FORGED
    for data, key in ((b"", None), (h("41a47266"), KEY), (TEMP_HUM, None),
                      (bytes((0x20,)) + h("1a01"), None)):
        assert _error(data, key=key).code == 0
    assert bthome.FORGED != 0


def test_encode_errors():
    for objs in ([("battery", 256)], [("battery", -1)], [("temperature", 400)],
                 [("nonsense", 1)], [(0xFE, 1)], [("door", "open")], [("door", None)]):
        try:
            bthome_encode.encode(objs, MAC)
        except BTHomeError:
            continue
        raise AssertionError("encoded %r" % (objs,))
    for counter in (-1, 1 << 32):
        try:
            bthome_encode.encode([("door", 1)], MAC, KEY, counter)
        except BTHomeError:
            continue
        raise AssertionError("counter %d accepted" % counter)


class _Lcg:
    # Deterministic bytes, identical on both interpreters.
    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n

    def data(self, n):
        return bytes(self.next(256) for _ in range(n))


def _only_bthome_errors(data, key, mac=MAC):
    try:
        r = bthome.decode(data, mac, key)
    except BTHomeError as e:
        assert not e.reason.startswith("internal"), (e.reason, binascii.hexlify(data))
        return None
    assert r["version"] == 2
    return r


def test_fuzz_garbage_only_raises_bthome_error():
    rng = _Lcg(2024)
    ids = [o[0] for o in bthome_host.all_objects()]
    decoded = 0
    for i in range(3000):
        kind = i % 4
        key = KEY if rng.next(2) else None
        if kind == 0:  # anything
            data = rng.data(rng.next(24))
        elif kind == 1:  # a v2 header with any flags, then anything
            data = bytes((0x40 | rng.next(8),)) + rng.data(rng.next(24))
        elif kind == 2:  # plain packets of mostly-known objects
            key = None
            body = bytearray((0x40,))
            for _ in range(rng.next(6)):
                body.append(ids[rng.next(len(ids))] if rng.next(8) else rng.next(256))
                body.extend(rng.data(rng.next(5)))
            data = bytes(body)
        else:  # correctly encrypted packets of random plaintext
            key = KEY
            counter = rng.data(4)
            info = 0x41 | (rng.next(2) << 2)
            nonce = bthome.parse_mac(MAC) + b"\xd2\xfc" + bytes((info,)) + counter
            ct, mic = ccm_host.encrypt(KEY, nonce, rng.data(rng.next(12)))
            data = bytes((info,)) + ct + counter + mic
        if _only_bthome_errors(data, key) is not None:
            decoded += 1
    assert decoded > 100  # the loop reaches the object parser, not just the header checks


def test_odd_argument_types_only_raise_bthome_error():
    for data, mac, key in ((None, MAC, None), ("41a4", MAC, None), (123, MAC, None),
                           (MOTION, None, KEY), (MOTION, 5, KEY), (MOTION, MAC, "hex"),
                           (MOTION, MAC, 7)):
        try:
            bthome.decode(data, mac, key)
        except BTHomeError as e:
            assert not e.reason.startswith("internal"), e.reason
            continue
        raise AssertionError("decoded %r" % (data,))
