"""The service's fast canonical JSON and HMAC (monitor/signing.py) against the
definition the hub runs (uplink/wire.py): the same bytes, the same verdicts,
on generated values, including the awkward ones (control characters, non-ASCII,
lone surrogates, floats, huge integers)."""
import hashlib
import hmac
import json

from hypothesis import given, settings, strategies as st

import pytest

from monitor import signing
from uplink import wire

pytestmark = pytest.mark.fast

SECRET = bytes(range(32))
texts = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
scalars = st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | texts
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                      | st.dictionaries(texts, kids, max_size=4), max_leaves=20)


def _both(fn, *args):
    try:
        return fn(*args)
    except ValueError:              # both refuse alike (a lone surrogate has no UTF-8)
        return "refused"


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_same_canonical_bytes_as_the_hub(v):
    assert _both(signing.canonical, v) == _both(wire.canonical, v)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(texts, values, max_size=5), st.booleans(), st.integers(0, 63))
def test_the_same_verdict_as_the_hub_on_signed_and_tampered_messages(obj, tamper, where):
    try:
        payload = wire.sign(SECRET, obj)
    except ValueError:
        return                          # nothing the hub could send
    if tamper:
        mac = json.loads(payload)["mac"]
        flipped = mac[:where] + ("0" if mac[where] != "0" else "1") + mac[where + 1:]
        payload = payload.replace(mac.encode(), flipped.encode())
    parsed, signable = signing.parse(payload)
    assert signing.verify(SECRET, parsed, signable) == wire.verify(SECRET, payload)
    assert (signing.verify(SECRET, parsed, signable) is None) == tamper


def test_floats_verify_nowhere_and_acks_are_byte_identical():
    # A float has no canonical form: even a MAC computed over json.dumps's rendering fails.
    body = {"v": 1, "type": "event", "hub": "hub-1", "signal": {"seq": 1.0}}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    body["mac"] = hmac.new(SECRET, text.encode(), hashlib.sha256).hexdigest()
    payload = json.dumps(body).encode()
    parsed, signable = signing.parse(payload)
    assert parsed is not None and not signable
    assert signing.verify(SECRET, parsed, signable) is None and wire.verify(SECRET, payload) is None
    ack = {"v": 1, "type": "ack", "hub": "hub-é\n", "seqs": [1, 2, 3], "time": 1764000000}
    assert signing.sign(SECRET, ack) == wire.sign(SECRET, ack)
    assert signing.parse(b"[1]") == (None, False) and signing.parse(b"\xff") == (None, False)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(texts, values, max_size=5), st.booleans(), st.integers(0, 63))
def test_the_bytes_as_sent_give_the_hubs_verdict_or_none(obj, tamper, where):
    """verify_as_sent checks a payload as a hub sends it without making canonical
    JSON again: it either agrees with the hub's own verify or leaves the
    payload to it (None), and a wrong MAC never passes."""
    try:
        payload = wire.sign(SECRET, obj)
    except ValueError:
        return
    if tamper:
        mac = json.loads(payload)["mac"]
        flipped = mac[:where] + ("0" if mac[where] != "0" else "1") + mac[where + 1:]
        payload = payload.replace(mac.encode(), flipped.encode())
    fast = signing.verify_as_sent(SECRET, payload)
    assert fast is None or fast == wire.verify(SECRET, payload)
    if tamper:
        assert fast is None


def _event(**signal):
    return {"v": 1, "type": "event", "hub": "hub-\u00e9 \"1\"", "epoch": 42,
            "signal": dict({"seq": 7, "code": "E130", "zone": 3}, **signal)}


@pytest.mark.parametrize("signal", [{}, {"name": "Back door \"left\" \\ \u00fc\u2603"},
                                    {"lost": [1, 2, 3], "code": "E624"}, {"seq": 2 ** 40}])
def test_a_hubs_own_payload_is_checked_as_sent(signal):
    payload = wire.sign(SECRET, _event(**signal))
    assert signing.verify_as_sent(SECRET, payload) == wire.verify(SECRET, payload) is not None


def test_the_mac_moved_or_the_body_changed_never_gives_another_body():
    """What comes back is parsed from the bytes the MAC covers: moving the mac
    member elsewhere gives the signed body or nothing, and any change to what
    it covers fails."""
    body = _event()
    payload = wire.sign(SECRET, body)
    member = b'"mac":"%s",' % json.loads(payload)["mac"].encode()
    bare = payload.replace(member, b"")
    assert bare == signing.canonical(body)
    moved = bare.replace(b'"signal":{', b'"signal":{' + member)        # into the signal
    assert signing.verify_as_sent(SECRET, moved) in (None, body)
    last = bare[:-1] + b"," + member[:-1] + b"}"                        # to the end
    assert signing.verify_as_sent(SECRET, last) in (None, body)
    for forged in (payload.replace(b'"E130"', b'"E131"'), payload.replace(b'"seq":7', b'"seq":8'),
                   payload.replace(b"{", b"{ ", 1), payload + b" "):
        assert signing.verify_as_sent(SECRET, forged) is None
    assert signing.verify_as_sent(SECRET, payload.replace(b'"mac":"', b'"mac":"0')) is None
    assert signing.verify_as_sent(SECRET, bytearray(payload)) is None      # left to verify()
