# The uplink's wire format (protocol v1, see docs/protocol.md): canonical JSON
# and its HMAC-SHA256 under the hub secret. Runs on the hub (MicroPython) and on
# the monitoring side (CPython): both sign and verify with these functions.
#
# Canonical form of a JSON value (UTF-8 bytes), the same bytes as CPython's
#   json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
# restricted to: objects with text keys, arrays, text, integers, true, false, null.
#   - object members sorted by key (code point order), no whitespace anywhere,
#     "," between items and ":" between key and value
#   - integers in plain decimal; floats are refused (no portable rendering)
#   - text: " and \ escaped as \" and \\; \b \f \n \r \t by those escapes; other
#     characters below U+0020 as \u00xx (lowercase hex); everything else literal
#     UTF-8 (no \u escapes for non-ASCII)
#
# A signed message is an object with a "mac" member: 64 lowercase hex digits of
# HMAC-SHA256(secret, canonical(the object without "mac")). It is sent in
# canonical form, but a verifier parses it and recomputes, so it may be re-encoded
# in transit by anything that keeps the values.
import json

from crypto.hmac_sha256 import hexdigest, equal

VERSION = 1
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
          "\r": "\\r", "\t": "\\t"}


def _text(s, out):
    out.append('"')
    start = 0
    for i in range(len(s)):
        c = s[i]
        if c in _SHORT or c < " ":
            if i > start:
                out.append(s[start:i])
            out.append(_SHORT.get(c) or "\\u%04x" % ord(c))
            start = i + 1
    if start < len(s):
        out.append(s[start:])
    out.append('"')


def _value(v, out):
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, str):
        _text(v, out)
    elif isinstance(v, dict):
        out.append("{")
        first = True
        for k in sorted(v):
            if not isinstance(k, str):
                raise ValueError("object keys must be text")
            if not first:
                out.append(",")
            first = False
            _text(k, out)
            out.append(":")
            _value(v[k], out)
        out.append("}")
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for i in range(len(v)):
            if i:
                out.append(",")
            _value(v[i], out)
        out.append("]")
    else:
        raise ValueError("not canonical JSON: %r" % (v,))


def canonical(v):
    """The canonical JSON bytes of v."""
    out = []
    _value(v, out)
    return "".join(out).encode()


def sign(secret, obj):
    """The canonical bytes of obj with its "mac" member added."""
    body = dict(obj)
    body.pop("mac", None)
    body["mac"] = hexdigest(secret, canonical(body))
    return canonical(body)


def parse(payload):
    """A JSON object from bytes/str, or None when it is not one."""
    try:
        if isinstance(payload, (bytes, bytearray)):
            payload = bytes(payload).decode()
        obj = json.loads(payload)
    except (ValueError, UnicodeError, TypeError):
        return None
    return obj if isinstance(obj, dict) else None


def verify(secret, payload):
    """The object (without "mac") if payload is a validly signed object, else None.

    payload: bytes, str or an already parsed dict.
    """
    obj = payload if isinstance(payload, dict) else parse(payload)
    if obj is None:
        return None
    got = obj.get("mac")
    if not isinstance(got, str):
        return None
    body = dict(obj)
    del body["mac"]
    try:
        want = hexdigest(secret, canonical(body))
    except ValueError:
        return None
    if not equal(want, got):
        return None
    return body


# ---- the messages ----
# (the monitoring side's own: check_event, ack, command are in uplink/wire_host.py,
# which the board image leaves out)

def event(secret, hub, time_s, signal, epoch=None):
    """The /events payload: a panel signal with hub id, hub time, signed.

    epoch: the hub's install epoch (random, made when its data was new), so a
    hub whose seqs started again never sends a body it sent before."""
    body = {"v": VERSION, "type": "event", "hub": hub, "time": time_s, "signal": signal}
    if epoch is not None:
        body["epoch"] = epoch
    return sign(secret, body)


def check_ack(obj, hub, secret=None):
    """The list of acknowledged seqs in a parsed ack object, or None if malformed.

    With secret, the ack must be signed for this hub.
    """
    if not isinstance(obj, dict):
        return None
    if secret is not None:
        obj = verify(secret, obj)
        if obj is None or obj.get("type") != "ack" or obj.get("hub") != hub:
            return None
    seqs = obj.get("seqs")
    if not isinstance(seqs, list):
        return None
    for s in seqs:
        if not isinstance(s, int) or s is True or s is False:
            return None
    return seqs
