"""Protocol v1's canonical JSON and HMAC on CPython's C code: the same bytes and
the same verdicts as uplink/wire.py (which the hub runs, in pure Python so
MicroPython can), at a fraction of the cost. The profile of the service said
so: verifying each event twice in pure Python was a third of its time.

wire.py stays the definition: host_tests/monitor/test_monitor_signing.py
checks these against it on generated values."""
import hmac
import json

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)


class NotCanonical(ValueError):
    """A value protocol v1 has no canonical form for (a float), as wire.py refuses it."""


def _no_float(text):
    raise NotCanonical("floats have no canonical form: %s" % text)


_DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)


def parse(payload):
    """(obj, signable): the JSON object in payload, or None when it is not one
    (as wire.parse); signable is False when it holds a value canonical JSON
    refuses, so that no MAC can verify it (as wire.verify)."""
    try:
        if isinstance(payload, (bytes, bytearray)):
            payload = bytes(payload).decode()
        try:
            obj = _DECODER.decode(payload)
            signable = True
        except NotCanonical:
            obj = json.loads(payload)
            signable = False
    except (ValueError, UnicodeError, TypeError, RecursionError):
        return None, False
    return (obj, signable) if isinstance(obj, dict) else (None, False)


def canonical(obj):
    return _CANONICAL.encode(obj).encode()


def mac(secret, obj):
    # hmac.digest: OpenSSL's one-shot HMAC, without building an HMAC object.
    return hmac.digest(secret, canonical(obj), "sha256").hex()


def verify(secret, obj, signable=True):
    """The object without "mac" if its MAC is right, else None (wire.verify's verdict)."""
    got = obj.get("mac")
    if not signable or not isinstance(got, str):
        return None
    body = dict(obj)
    del body["mac"]
    try:
        want = mac(secret, body)
        got_bytes = got.encode()
    except (ValueError, RecursionError):      # a lone surrogate has no UTF-8
        return None
    return body if hmac.compare_digest(want.encode(), got_bytes) else None


_MAC_MEMBER = b'"mac":"'
_MAC_HEX = 64


def verify_as_sent(secret, payload):
    """The object without "mac" if payload is signed as a hub sends it, else
    None (and verify() decides): the canonical bytes of the body with the
    "mac" member put in. Those bytes, the member taken out, are what the
    MAC is over, so they are checked and parsed as they are, with no
    canonical JSON made again (the service's costliest step a signal). What
    is returned is parsed from the very bytes the MAC covers: whatever else
    the payload holds, the body is what the hub's secret signed."""
    if not isinstance(payload, bytes):
        return None
    i = payload.find(_MAC_MEMBER)
    end = i + len(_MAC_MEMBER) + _MAC_HEX
    if i < 1 or payload[end:end + 1] != b'"':
        return None
    if payload[end + 1:end + 2] == b",":             # a member follows it
        signed = payload[:i] + payload[end + 2:]
    elif payload[i - 1:i] == b",":                   # the last member
        signed = payload[:i - 1] + payload[end + 1:]
    else:
        return None
    want = hmac.digest(secret, signed, "sha256").hex().encode()
    if not hmac.compare_digest(want, payload[i + len(_MAC_MEMBER):end]):
        return None
    try:
        body = _DECODER.decode(signed.decode())
    except (ValueError, UnicodeError, RecursionError):     # NotCanonical is a ValueError
        return None
    return body if isinstance(body, dict) else None


def sign(secret, obj):
    """The canonical bytes of obj with its "mac" member added (wire.sign)."""
    body = dict(obj)
    body.pop("mac", None)
    body["mac"] = mac(secret, body)
    return canonical(body)
