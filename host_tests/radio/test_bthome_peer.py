"""Our BTHome decoder against bthome-ble, the parser Home Assistant uses.

Adverts are built here from bthome-ble's own object table (ids and sizes), not
from ours, with every object id, plain and encrypted, and encrypted
independently with `cryptography`'s AESCCM as well as by our encoder. On every
valid advert both parsers must report the same readings; truncated, forged and
wrong-key adverts must never be accepted by ours (nor by the peer).
"""
from datetime import datetime

from bthome_ble.const import MEAS_TYPES
from bthome_ble.event import EventDeviceKeys
from bthome_ble.parser import BTHomeBluetoothDeviceData
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from habluetooth import BluetoothServiceInfoBleak
from hypothesis import given, settings, strategies as st
from sensor_state_data.description import BaseBinarySensorDescription, BaseSensorDescription

import pytest

from crypto import ccm
from crypto import ccm_host
from radio import bthome
from radio import bthome_encode
from radio.bthome import BTHomeError

pytestmark = pytest.mark.fast

UUID = "0000fcd2-0000-1000-8000-00805f9b34fb"
MAC = "54:48:E6:8F:80:A5"
KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
OTHER_KEY = bytes.fromhex("814aac74c4f17b6c1581e1ab87816b99")
TAG = 4          # BTHome's MIC length
PEER = settings(max_examples=150, deadline=None, derandomize=True, database=None)
IDS = sorted(MEAS_TYPES)
VARIABLE = ("raw", "string", "command")
SIGNAL = "signal_strength"     # the peer adds the RSSI as a reading of its own


# ---- adverts, built from the peer's table ----

@st.composite
def payloads(draw, ids=st.sampled_from(IDS)):
    """(plaintext object bytes, [(id, data bytes)]) in ascending ids, as the spec asks."""
    chosen = sorted(draw(st.lists(ids, min_size=1, max_size=6)))
    out = bytearray()
    objects = []
    for oid in chosen:
        mt = MEAS_TYPES[oid]
        if mt.data_format == "command":
            args = draw(st.binary(max_size=3))
            data = bytes([draw(st.integers(0, 6))]) + args
            out += bytes([oid, len(args)]) + data
        elif mt.data_format in VARIABLE:
            if mt.data_format == "string" and draw(st.booleans()):
                data = draw(st.text(min_size=1, max_size=8)).encode()[:20]
            else:
                data = draw(st.binary(min_size=1, max_size=10))
            out += bytes([oid, len(data)]) + data
        else:
            data = draw(st.binary(min_size=mt.data_length, max_size=mt.data_length))
            out += bytes([oid]) + data
        objects.append((oid, data))
    return bytes(out), objects


def _mac6():
    return bytes.fromhex(MAC.replace(":", ""))


def plain(payload, trigger=False, mac_in=False):
    info = 0x40 | (0x04 if trigger else 0) | (0x02 if mac_in else 0)
    return bytes([info]) + (_mac6()[::-1] if mac_in else b"") + payload


def sealed(payload, counter, key=KEY, trigger=False, mac_in=False):
    """Encrypted service data, with cryptography's AES-CCM (not ours)."""
    info = 0x41 | (0x04 if trigger else 0) | (0x02 if mac_in else 0)
    c4 = counter.to_bytes(4, "little")
    nonce = _mac6() + b"\xd2\xfc" + bytes([info]) + c4
    sealed_ = AESCCM(key, tag_length=TAG).encrypt(nonce, payload, None)
    return (bytes([info]) + (_mac6()[::-1] if mac_in else b"") + sealed_[:-TAG] + c4
            + sealed_[-TAG:])


# ---- the two parsers ----

def peer(data, key=None):
    """What bthome-ble reports: {(kind, key): value}; kind sensor/binary/event."""
    if not data:
        return {}                         # bthome-ble 3.25 raises IndexError on b""
    info = BluetoothServiceInfoBleak(
        name="peer", address=MAC, rssi=-60, manufacturer_data={}, service_data={UUID: data},
        service_uuids=[], source="", device=None, advertisement=None, connectable=False,
        time=0.0, tx_power=None)
    update = BTHomeBluetoothDeviceData(bindkey=key).update(info)
    out = {}
    for k, v in update.entity_values.items():
        if k.key != SIGNAL:
            out[("sensor", k.key)] = v.native_value
    for k, v in update.binary_entity_values.items():
        out[("binary", k.key)] = v.native_value
    for k, v in update.events.items():
        out[("event", k.key)] = (v.event_type, v.event_properties)
    return out


def ours(data, key=None):
    """Our decode, in the peer's terms; raises BTHomeError when we refuse it."""
    r = bthome.decode(data, MAC, key)
    objs = r["objects"]
    formats = [MEAS_TYPES[o["id"]].meas_format for o in objs]
    counted = [f for f in formats if f is not None]
    seen = {}
    out = {}
    for o, fmt in zip(objs, formats):
        if fmt is None:
            continue                      # device type / firmware: not a reading
        postfix = ""
        if counted.count(fmt) > 1:
            seen[fmt] = seen.get(fmt, 0) + 1
            postfix = "_%d" % seen[fmt]
        value = o["value"]
        if isinstance(fmt, EventDeviceKeys):
            if o["event"] is not None:
                props = None
                if o["id"] == 0x3C:
                    props = {"steps": o["steps"]}
                elif o["id"] == 0x3B:
                    props = {"args": o["args"]}
                out[("event", str(fmt) + postfix)] = (o["event"], props)
        elif value is None:
            continue                      # text that is not UTF-8: no reading
        elif isinstance(fmt, BaseBinarySensorDescription):
            out[("binary", str(fmt.device_class) + postfix)] = bool(value)
        else:
            assert isinstance(fmt, BaseSensorDescription)
            out[("sensor", str(fmt.device_class) + postfix)] = value
    return out, r


def agree(mine, theirs, objects):
    assert mine.keys() == theirs.keys(), (mine, theirs)
    for k in mine:
        a, b = mine[k], theirs[k]
        if isinstance(b, datetime):
            b = int(b.timestamp())
        if isinstance(a, float) and isinstance(b, float) and a != b:
            # bthome-ble rounds 0x58 (0.35 degree steps) to one decimal.
            assert any(oid == 0x58 for oid, _ in objects) and abs(a - b) <= 0.05 + 1e-9, \
                (k, a, b)
            continue
        assert a == b, (k, a, b)


# ---- valid adverts: the same readings ----

@PEER
@given(payloads(), st.booleans(), st.booleans())
def test_plain_adverts_agree(p, trigger, mac_in):
    payload, objects = p
    data = plain(payload, trigger, mac_in)
    mine, r = ours(data)
    assert r["unknown"] == 0 and len(r["objects"]) == len(objects)
    agree(mine, peer(data), objects)


@PEER
@given(payloads(), st.integers(0, 0xFFFFFFFF), st.booleans(), st.booleans())
def test_adverts_sealed_by_cryptography_agree(p, counter, trigger, mac_in):
    payload, objects = p
    data = sealed(payload, counter, KEY, trigger, mac_in)
    mine, r = ours(data, KEY)
    assert r["counter"] == counter and r["encrypted"] and r["unknown"] == 0
    agree(mine, peer(data, KEY), objects)


@PEER
@given(payloads(), st.integers(0, 0xFFFFFFFF), st.booleans())
def test_adverts_sealed_by_our_encoder_agree(p, counter, trigger):
    payload, objects = p
    _, r = ours(plain(payload))
    if any(o["value"] is None for o in r["objects"]):
        return                            # undecodable text has no value to send
    # Decoded objects go back in whole: a command's arguments too.
    data = bthome_encode.encode(r["objects"], MAC, KEY, counter, trigger)
    # Our encoder writes the same plaintext, so cryptography must agree on the seal.
    assert data == sealed(payload, counter, KEY, trigger)
    mine, _ = ours(data, KEY)
    agree(mine, peer(data, KEY), objects)


def _every_id(fill):
    payload = bytearray()
    objects = []
    for oid in IDS:
        mt = MEAS_TYPES[oid]
        if mt.data_format == "command":
            data = b"\x02" + fill * 2
            payload += bytes([oid, 2]) + data
        elif mt.data_format in VARIABLE:
            data = b"ok" if mt.data_format == "string" else fill * 3
            payload += bytes([oid, len(data)]) + data
        else:
            data = fill * mt.data_length
            payload += bytes([oid]) + data
        objects.append((oid, data))
    return bytes(payload), objects


def test_every_id_of_the_peer_table_agrees_at_its_extremes():
    for fill in (b"\x00", b"\x01", b"\x7f", b"\x80", b"\xff"):
        payload, objects = _every_id(fill)
        for data, key in ((plain(payload), None), (sealed(payload, 7), KEY)):
            mine, r = ours(data, key)
            assert r["unknown"] == 0 and len(r["objects"]) == len(IDS)
            agree(mine, peer(data, key), objects)


# ---- invalid adverts: never accepted ----

def _refused(data, key):
    try:
        bthome.decode(data, MAC, key)
    except BTHomeError as e:
        assert not e.reason.startswith("internal"), e.reason
        return True
    return False


@PEER
@given(payloads(), st.integers(0, 0xFFFFFFFF), st.data())
def test_truncated_encrypted_adverts_are_refused(p, counter, data):
    full = sealed(p[0], counter)
    cut = data.draw(st.integers(0, len(full) - 1))
    assert _refused(full[:cut], KEY)
    assert peer(full[:cut], KEY) == {}


@PEER
@given(payloads(), st.data())
def test_truncated_plain_adverts_are_refused_unless_cut_between_objects(p, data):
    payload, objects = p
    full = plain(payload)
    cut = data.draw(st.integers(1, len(full) - 1))
    ends = [1]                            # the info byte alone: an advert of no objects
    for oid, d in objects:
        ends.append(ends[-1] + 1 + len(d) + (MEAS_TYPES[oid].data_format in VARIABLE))
    if cut in ends:
        mine, _ = ours(full[:cut])        # a shorter advert, still whole
        agree(mine, peer(full[:cut]), objects[:ends.index(cut)])
    else:
        assert _refused(full[:cut], None)


@PEER
@given(payloads(), st.integers(0, 0xFFFFFFFF), st.data())
def test_forged_adverts_are_refused(p, counter, data):
    good = bytearray(sealed(p[0], counter))
    i = data.draw(st.integers(0, len(good) - 1))
    good[i] ^= 1 << data.draw(st.integers(0, 7))
    assert _refused(bytes(good), KEY)
    assert peer(bytes(good), KEY) == {}


@PEER
@given(payloads(), st.integers(0, 0xFFFFFFFF), st.booleans())
def test_wrong_key_adverts_are_refused(p, counter, by_us):
    data = sealed(p[0], counter, OTHER_KEY)
    if by_us:
        c4 = counter.to_bytes(4, "little")
        ct, mic = ccm_host.encrypt(OTHER_KEY, _mac6() + b"\xd2\xfc\x41" + c4, p[0])
        data = b"\x41" + ct + c4 + mic
    assert _refused(data, KEY)
    assert peer(data, KEY) == {}


@PEER
@given(payloads())
def test_plain_advert_from_a_keyed_sensor_is_refused(p):
    data = plain(p[0])
    assert _refused(data, KEY)
    assert peer(data, KEY) == {}


@PEER
@given(payloads(), st.integers(0x66, 0xEF), st.binary(max_size=6))
def test_an_unknown_id_keeps_what_both_read_before_it(p, unknown, tail):
    payload, objects = p
    data = plain(payload + bytes([unknown]) + tail)
    mine, r = ours(data)
    assert r["unknown"] == 1 + len(tail)
    agree(mine, peer(data), objects)


def test_a_command_keeps_its_arguments_through_our_encoder():
    payload = bytes([0x3B, 3, 0x02, 0xAA, 0xBB, 0xCC])
    _, r = ours(plain(payload))
    assert r["objects"][0]["args"] == "aabbcc"
    data = bthome_encode.encode(r["objects"], MAC, KEY, 5)
    assert data == sealed(payload, 5)
    mine, _ = ours(data, KEY)
    assert mine[("event", "command")][1] == {"args": "aabbcc"}
    agree(mine, peer(data, KEY), [(0x3B, payload[2:])])
