"""Property tests of the BTHome decoder on CPython (hypothesis)."""
from hypothesis import given, settings, strategies as st

import pytest

from crypto import ccm
from crypto import ccm_host
from radio import bthome
from radio import bthome_encode
from radio import bthome_host
from radio.bthome import BTHomeError

pytestmark = pytest.mark.fast

KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
MAC = "54:48:E6:8F:80:A5"
FAST = settings(max_examples=300, deadline=None)


def decode_or_reason(data, key, mac=MAC):
    try:
        return bthome.decode(data, mac, key)
    except BTHomeError as e:
        assert not e.reason.startswith("internal"), e.reason
        return e.reason


@FAST
@given(st.binary(max_size=40), st.sampled_from([None, KEY]))
def test_any_bytes_only_raise_bthome_error(data, key):
    decode_or_reason(data, key)


@FAST
@given(st.integers(0x40, 0x47), st.binary(max_size=40), st.sampled_from([None, KEY]))
def test_any_v2_body_only_raises_bthome_error(info, body, key):
    decode_or_reason(bytes([info]) + body, key)


@FAST
@given(st.binary(max_size=30), st.binary(min_size=4, max_size=4), st.booleans())
def test_authentic_packets_of_random_plaintext(plain, counter, trigger):
    info = 0x41 | (0x04 if trigger else 0)
    nonce = bthome.parse_mac(MAC) + b"\xd2\xfc" + bytes([info]) + counter
    ct, mic = ccm_host.encrypt(KEY, nonce, plain)
    out = decode_or_reason(bytes([info]) + ct + counter + mic, KEY)
    if isinstance(out, dict):
        assert out["counter"] == int.from_bytes(counter, "little")
        assert out["trigger"] is trigger
    else:
        assert out == "short packet"


def _object_and_value(spec, data):
    oid, _, size, signed, dec, mult = spec
    bits = 8 * size
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    raw = data.draw(st.integers(lo, hi))
    return oid, (raw * mult / 10 ** dec if dec else raw)


@FAST
@given(st.data(), st.sampled_from([None, KEY]), st.integers(0, 0xFFFFFFFF), st.booleans())
def test_encode_decode_round_trip(data, key, counter, trigger):
    fixed = [s for s in bthome_host.all_objects() if s[2]]
    specs = data.draw(st.lists(st.sampled_from(fixed), max_size=8))
    objs = [_object_and_value(s, data) for s in specs]
    packet = bthome_encode.encode(objs, MAC, key, counter, trigger)
    r = bthome.decode(packet, MAC, key)
    assert [(o["id"], o["value"]) for o in r["objects"]] == objs
    assert r["trigger"] is trigger
    assert r["counter"] == (counter if key else None)


@FAST
@given(st.integers(0, 255), st.integers(0, 0xFFFFFFFF), st.integers(0, 200), st.integers(0, 7))
def test_any_bit_flip_in_an_encrypted_packet_is_caught(count, counter, pos, bit):
    packet = bytearray(bthome_encode.encode([("count", count), ("door", 1)], MAC, KEY, counter))
    i = pos % len(packet)
    packet[i] ^= 1 << bit
    out = decode_or_reason(bytes(packet), KEY)
    if i == 0:
        assert isinstance(out, str)  # another version, plain, or a nonce change
    else:
        assert out == "bad MIC"
