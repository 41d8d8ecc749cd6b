# Every object of the BTHome v2 format table, and what happens after an object
# id the decoder does not know: the objects before it are kept.
import binascii

from radio import bthome
from radio import bthome_encode
from radio import bthome_host
from radio.bthome import BTHomeError
from radio.sensors import Sensors

h = binascii.unhexlify
MAC = "54:48:E6:8F:80:A5"
KEY = h("231d39c1d7cc1ab1aee224cd096db932")

# The object ids of the format table (bthome.io/format), device info included.
TABLE_IDS = list(range(0x00, 0x30)) + list(range(0x3A, 0x66)) + [0xF0, 0xF1, 0xF2]


def _objects(hexpayload):
    r = bthome.decode(bthome_encode.encode([], MAC)[:1] + h(hexpayload), MAC)
    return [(o["id"], o["value"]) for o in r["objects"]], r["unknown"]


def test_every_id_of_the_format_table_is_known():
    known = [o[0] for o in bthome_host.all_objects()]
    missing = [("%02x" % i) for i in TABLE_IDS if i not in known]
    assert missing == [], missing


def test_unknown_id_keeps_the_objects_before_it():
    r = bthome.decode(h("40" "0005" "1a01" "fe0102"), MAC)
    assert [(o["name"], o["value"]) for o in r["objects"]] == [("packet_id", 5), ("door", 1)]
    assert r["unknown"] == 3           # bytes from the unknown id on, unread


def test_unknown_id_in_an_encrypted_advert_keeps_the_door_opening():
    from crypto import ccm
    from crypto import ccm_host
    counter = h("0a000000")
    nonce = bthome.parse_mac(MAC) + b"\xd2\xfc\x41" + counter
    ct, mic = ccm_host.encrypt(KEY, nonce, h("1a01" "e70000"))
    r = bthome.decode(b"\x41" + ct + counter + mic, MAC, KEY)
    assert r["objects"] == [{"id": 0x1A, "name": "door", "value": 1}]
    assert r["unknown"] == 3 and r["counter"] == 10


def test_a_fully_known_advert_has_nothing_unknown():
    assert bthome.decode(h("401a01"), MAC)["unknown"] == 0


def test_sensor_opens_on_a_partly_known_advert_and_counts_the_rest():
    s = Sensors()
    s.add(MAC, "front_door", "contact", KEY)
    from crypto import ccm
    from crypto import ccm_host
    counter = h("0b000000")
    nonce = bthome.parse_mac(MAC) + b"\xd2\xfc\x41" + counter
    ct, mic = ccm_host.encrypt(KEY, nonce, h("0001" "1a01" "ee05"))
    assert s.advert(MAC, b"\x41" + ct + counter + mic) == [("front_door", "open"),
                                                           ("front_door", "checkin")]
    assert s.counts["unknown_objects"] == 1 and s.counts["accepted"] == 1


def test_new_fixed_size_objects():
    objs, rest = _objects("58f6" "62c0bdf0ff" "6340420f00" "6403" "6507")
    assert rest == 0
    assert objs == [(0x58, -3.5), (0x62, -1.0), (0x63, 1.0), (0x64, 3), (0x65, 7)]


def test_text_and_raw_objects_carry_their_length():
    objs, rest = _objects("5305" + binascii.hexlify(b"hello").decode() + "5403a1b2c3" + "1a01")
    assert objs == [(0x53, "hello"), (0x54, "a1b2c3"), (0x1A, 1)]
    assert rest == 0


def test_command_object_is_an_event_with_arguments():
    r = bthome.decode(h("40" "3b0202aabb"), MAC)
    o = r["objects"][0]
    assert (o["name"], o["event"], o["args"]) == ("command", "toggle", "aabb")


def test_variable_length_running_past_the_end_is_a_short_packet():
    for bad in ("4053", "405305aa", "40540a0102", "403b", "403b0301"):
        try:
            bthome.decode(h(bad), MAC)
        except BTHomeError as e:
            assert e.reason == "short packet", (bad, e.reason)
            continue
        raise AssertionError("decoded %s" % bad)


def test_text_that_is_not_utf8_is_kept_as_nothing():
    objs, rest = _objects("5302fffe" "1a01")
    assert objs == [(0x53, None), (0x1A, 1)]


def test_new_objects_round_trip_through_the_encoder():
    objs = [(0x3B, 0x02), (0x53, "hi"), (0x54, "0102"), (0x58, 7.0), (0x62, -0.000001),
            (0x63, 2147.483647), (0x64, 200), (0x65, 1)]
    for key in (None, KEY):
        r = bthome.decode(bthome_encode.encode(objs, MAC, key, 3), MAC, key)
        got = [(o["id"], o["value"]) for o in r["objects"]]
        assert got == objs, got


def test_button_events_are_only_the_defined_ones():
    r = bthome.decode(h("40" "3a00" "3a01" "3a02" "3a03" "3a04" "3a05" "3a06" "3a80" "3a81"
                        "3a07" "3afe"), MAC)
    assert [o["event"] for o in r["objects"]] == [
        None, "press", "double_press", "triple_press", "long_press", "long_double_press",
        "long_triple_press", "hold_press", "hold_release", None, None]
