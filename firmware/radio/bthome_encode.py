# Encoding BTHome v2 service data, so the simulation, the tests and the bench
# can play real sensors. Host-only: the hub only decodes (radio/bthome.py),
# so the board image leaves this file out.
import binascii

from crypto import ccm_host
from radio.bthome import BTHomeError, spec, object_id, parse_mac, _key_bytes, _nonce

from panel.compat import const

# As in radio/bthome.py (a const with a leading _ is not a module attribute).
_ENCRYPTED = const(0x01)
_TRIGGER = const(0x04)
_VERSION_2 = const(0x40)
_MIC_LEN = const(4)
_TEXT = const(0x53)
_RAW = const(0x54)
_ARGS_MASK = const(0x1F)


def _encode_object(oid, value, out, args=""):
    sp = spec(oid)
    name, size, signed, decimals, mult = sp[1], sp[2], sp[3], sp[4], sp[5]
    if not size:
        return _encode_variable(oid, name, value, out, args)
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, (int, float)):
        raise BTHomeError("bad value for %s" % name)
    try:
        raw = round(value * (10 ** decimals) / mult) if decimals else round(value)
    except (ValueError, OverflowError):
        raise BTHomeError("bad value for %s" % name)
    bits = 8 * size
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not lo <= raw <= hi:
        raise BTHomeError("value out of range for %s" % name)
    raw &= (1 << bits) - 1
    out.append(oid)
    for _ in range(size):
        out.append(raw & 0xFF)
        raw >>= 8


def _encode_variable(oid, name, value, out, args):
    # text: a str; raw: hex digits; command: the opcode (an int) and its
    # arguments (hex digits, as decode() gives them back).
    try:
        if oid == _TEXT:
            data = value.encode()
        elif oid == _RAW:
            data = binascii.unhexlify(value)
        else:
            if isinstance(value, bool) or not 0 <= value <= 0xFF:
                raise ValueError
            data = binascii.unhexlify(args)
            if len(data) > _ARGS_MASK:
                raise ValueError
            # The length byte counts the arguments alone, not the opcode.
            out.extend(bytes((oid, len(data), value)))
            out.extend(data)
            return
    except Exception:
        raise BTHomeError("bad value for %s" % name)
    if len(data) > 0xFF:
        raise BTHomeError("value out of range for %s" % name)
    out.extend(bytes((oid, len(data))))
    out.extend(data)


def encode(objects, mac, key=None, counter=0, trigger=False):
    """Service data for `objects`, each a (name or id, value) pair or a dict
    with "id" or "name" and "value" (a command's may have "args", hex digits,
    as decode() gives it). They are sent in the order given (the
    spec asks senders for ascending ids). With `key` the packet is encrypted;
    `counter` must then grow with every packet the device sends."""
    payload = bytearray()
    for obj in objects:
        if isinstance(obj, dict):
            which = obj.get("id", obj.get("name"))
            value = obj.get("value")
            args = obj.get("args", "")
        else:
            which, value = obj
            args = ""
        _encode_object(object_id(which), value, payload, args)
    key = _key_bytes(key)
    info = _VERSION_2 | (_TRIGGER if trigger else 0)
    if key is None:
        return bytes((info,)) + bytes(payload)
    info |= _ENCRYPTED
    if not isinstance(counter, int) or not 0 <= counter <= 0xFFFFFFFF:
        raise BTHomeError("counter out of range")
    counter4 = bytes((counter & 0xFF, (counter >> 8) & 0xFF,
                      (counter >> 16) & 0xFF, (counter >> 24) & 0xFF))
    ct, mic = ccm_host.encrypt(key, _nonce(parse_mac(mac), info, counter4), payload,
                               mic_len=_MIC_LEN)
    return bytes((info,)) + ct + counter4 + mic
