# BTHome v2 service data (16-bit UUID 0xFCD2): decode what sensors advertise,
# and encode the same, so the simulation can play real sensors.
#
# Layout: device-info byte, [MAC reversed, 6 bytes, if bit 1], then objects.
# Encrypted: info | ciphertext | counter (4, LE) | MIC (4), AES-CCM with nonce
# MAC | D2 FC | info | counter. Objects carry no length: it follows from the
# id, so one unknown id makes the rest of the packet unreadable.
import binascii

from crypto import ccm

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

UUID = const(0xFCD2)
_ENCRYPTED = const(0x01)
_MAC_INCLUDED = const(0x02)
_TRIGGER = const(0x04)
_VERSION_2 = const(0x40)
_VERSION_MASK = const(0xE0)
_COUNTER_AND_MIC = const(8)
_MIC_LEN = const(4)
_UUID_LE = b"\xd2\xfc"

# (id, name, bytes, signed, decimals). Value = raw / 10**decimals.
# Ids, sizes and scales follow the BTHome v2 format table (bthome.io/format).
# Binary sensors: 0 = off/closed/normal, 1 = on/open/detected.
OBJECTS = (
    (0x00, "packet_id", 1, False, 0),
    (0x01, "battery", 1, False, 0),
    (0x02, "temperature", 2, True, 2),
    (0x03, "humidity", 2, False, 2),
    (0x04, "pressure", 3, False, 2),
    (0x05, "illuminance", 3, False, 2),
    (0x06, "mass_kg", 2, False, 2),
    (0x07, "mass_lb", 2, False, 2),
    (0x08, "dew_point", 2, True, 2),
    (0x09, "count", 1, False, 0),
    (0x0A, "energy", 3, False, 3),
    (0x0B, "power", 3, False, 2),
    (0x0C, "voltage", 2, False, 3),
    (0x0D, "pm2_5", 2, False, 0),
    (0x0E, "pm10", 2, False, 0),
    (0x0F, "generic_boolean", 1, False, 0),
    (0x10, "power_on", 1, False, 0),
    (0x11, "opening", 1, False, 0),
    (0x12, "co2", 2, False, 0),
    (0x13, "tvoc", 2, False, 0),
    (0x14, "moisture", 2, False, 2),
    (0x15, "battery_low", 1, False, 0),
    (0x16, "battery_charging", 1, False, 0),
    (0x17, "carbon_monoxide", 1, False, 0),
    (0x18, "cold", 1, False, 0),
    (0x19, "connectivity", 1, False, 0),
    (0x1A, "door", 1, False, 0),
    (0x1B, "garage_door", 1, False, 0),
    (0x1C, "gas_detected", 1, False, 0),
    (0x1D, "heat", 1, False, 0),
    (0x1E, "light", 1, False, 0),
    (0x1F, "lock", 1, False, 0),
    (0x20, "moisture_detected", 1, False, 0),
    (0x21, "motion", 1, False, 0),
    (0x22, "moving", 1, False, 0),
    (0x23, "occupancy", 1, False, 0),
    (0x24, "plug", 1, False, 0),
    (0x25, "presence", 1, False, 0),
    (0x26, "problem", 1, False, 0),
    (0x27, "running", 1, False, 0),
    (0x28, "safety", 1, False, 0),
    (0x29, "smoke", 1, False, 0),
    (0x2A, "sound", 1, False, 0),
    (0x2B, "tamper", 1, False, 0),
    (0x2C, "vibration", 1, False, 0),
    (0x2D, "window", 1, False, 0),
    (0x2E, "humidity", 1, False, 0),
    (0x2F, "moisture", 1, False, 0),
    (0x3A, "button", 1, False, 0),
    (0x3C, "dimmer", 2, False, 0),
    (0x3D, "count", 2, False, 0),
    (0x3E, "count", 4, False, 0),
    (0x3F, "rotation", 2, True, 1),
    (0x40, "distance_mm", 2, False, 0),
    (0x41, "distance_m", 2, False, 1),
    (0x42, "duration", 3, False, 3),
    (0x43, "current", 2, False, 3),
    (0x44, "speed", 2, False, 2),
    (0x45, "temperature", 2, True, 1),
    (0x46, "uv_index", 1, False, 1),
    (0x47, "volume", 2, False, 1),
    (0x48, "volume_ml", 2, False, 0),
    (0x49, "volume_flow_rate", 2, False, 3),
    (0x4A, "voltage", 2, False, 1),
    (0x4B, "gas", 3, False, 3),
    (0x4C, "gas", 4, False, 3),
    (0x4D, "energy", 4, False, 3),
    (0x4E, "volume", 4, False, 3),
    (0x4F, "water", 4, False, 3),
    (0x50, "timestamp", 4, False, 0),
    (0x51, "acceleration", 2, False, 3),
    (0x52, "gyroscope", 2, False, 3),
    (0x55, "volume_storage", 4, False, 3),
    (0x56, "conductivity", 2, False, 0),
    (0x57, "temperature", 1, True, 0),
    (0x59, "count", 1, True, 0),
    (0x5A, "count", 2, True, 0),
    (0x5B, "count", 4, True, 0),
    (0x5C, "power", 4, True, 2),
    (0x5D, "current", 2, True, 3),
    (0x5E, "direction", 2, False, 2),
    (0x5F, "precipitation", 2, False, 1),
    (0x60, "channel", 1, False, 0),
    (0x61, "rotational_speed", 2, False, 0),
    (0xF0, "device_type", 2, False, 0),
    (0xF1, "firmware_version", 4, False, 0),
    (0xF2, "firmware_version", 3, False, 0),
)

BUTTON_EVENTS = {0x00: "none", 0x01: "press", 0x02: "double_press", 0x03: "triple_press",
                 0x04: "long_press", 0x05: "long_double_press",
                 0x06: "long_triple_press", 0x80: "hold_press", 0xFE: "hold_press"}
DIMMER_EVENTS = {0x00: "none", 0x01: "rotate_left", 0x02: "rotate_right"}

_BY_ID = {}
_BY_NAME = {}  # a name shared by several ids means the first (lowest) id
for _o in OBJECTS:
    _BY_ID[_o[0]] = _o
    if _o[1] not in _BY_NAME:
        _BY_NAME[_o[1]] = _o[0]


class BTHomeError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def parse_mac(mac):
    """6 bytes from "AA:BB:CC:DD:EE:FF" (or with '-' or no separators)."""
    try:
        raw = binascii.unhexlify(mac.replace(":", "").replace("-", ""))
    except Exception:
        raise BTHomeError("bad MAC")
    if len(raw) != 6:
        raise BTHomeError("bad MAC")
    return raw


def format_mac(raw):
    return ":".join("%02X" % b for b in raw)


def _key_bytes(key):
    if key is None:
        return None
    if not isinstance(key, (bytes, bytearray)) or len(key) != 16:
        raise BTHomeError("bad key")
    return bytes(key)


def _nonce(mac6, info, counter4):
    return bytes(mac6) + _UUID_LE + bytes((info,)) + bytes(counter4)


def _le(data, start, n, signed):
    v = 0
    for i in range(n - 1, -1, -1):
        v = (v << 8) | data[start + i]
    if signed and v >= 1 << (8 * n - 1):
        v -= 1 << (8 * n)
    return v


def _scaled(raw, decimals):
    if decimals:
        return raw / (10 ** decimals)  # a division rounds right: 2506/100 == 25.06
    return raw


def _decode_objects(payload):
    objects = []
    pos = 0
    n = len(payload)
    while pos < n:
        oid = payload[pos]
        spec = _BY_ID.get(oid)
        if spec is None:
            raise BTHomeError("unknown object 0x%02x" % oid)
        size = spec[2]
        if pos + 1 + size > n:
            raise BTHomeError("short packet")
        raw = _le(payload, pos + 1, size, spec[3])
        obj = {"id": oid, "name": spec[1], "value": _scaled(raw, spec[4])}
        if oid == 0x3A:
            obj["event"] = BUTTON_EVENTS.get(raw, "unknown")
        elif oid == 0x3C:
            obj["event"] = DIMMER_EVENTS.get(raw & 0xFF, "unknown")
            obj["steps"] = raw >> 8
        objects.append(obj)
        pos += 1 + size
    return objects


def decode(service_data, mac, key=None):
    """Decode BTHome v2 service data sent by the device with address `mac`.

    Returns {"version", "mac", "encrypted", "trigger", "counter" (None when
    plain), "objects": [{"id", "name", "value"[, "event", "steps"]}, ...]}.
    Raises BTHomeError, and nothing else, whatever the bytes are.
    """
    try:
        return _decode(service_data, mac, key)
    except BTHomeError:
        raise
    except Exception as e:  # a bug, not a packet problem; still never crash the radio loop
        raise BTHomeError("internal error: %r" % (e,))


def _decode(service_data, mac, key):
    if not isinstance(service_data, (bytes, bytearray, memoryview)):
        raise BTHomeError("service data must be bytes")
    data = bytes(service_data)
    key = _key_bytes(key)
    if not data:
        raise BTHomeError("short packet")
    info = data[0]
    if info & _VERSION_MASK != _VERSION_2:
        raise BTHomeError("not BTHome v2")
    pos = 1
    if info & _MAC_INCLUDED:
        if len(data) < 7:
            raise BTHomeError("short packet")
        mac6 = bytes(reversed(data[1:7]))
        pos = 7
    else:
        mac6 = parse_mac(mac)
    result = {"version": 2, "mac": format_mac(mac6), "encrypted": bool(info & _ENCRYPTED),
              "trigger": bool(info & _TRIGGER), "counter": None}
    if info & _ENCRYPTED:
        if key is None:
            raise BTHomeError("encrypted but no key")
        if len(data) - pos < _COUNTER_AND_MIC:
            raise BTHomeError("short packet")
        counter4 = data[-8:-4]
        payload = ccm.decrypt(key, _nonce(mac6, info, counter4), data[pos:-8], data[-4:])
        if payload is None:
            raise BTHomeError("bad MIC")
        result["counter"] = _le(counter4, 0, 4, False)
    else:
        if key is not None:
            raise BTHomeError("key given but packet not encrypted")
        payload = data[pos:]
    result["objects"] = _decode_objects(payload)
    return result


def values(result):
    """A flat {name: value} view of decode()'s objects; repeats get _2, _3..."""
    flat = {}
    for obj in result["objects"]:
        name = obj["name"]
        k = name
        i = 1
        while k in flat:
            i += 1
            k = "%s_%d" % (name, i)
        flat[k] = obj["value"]
    return flat


def object_id(name_or_id):
    """The object id for a name ("door") or an id (0x1A); BTHomeError if unknown."""
    if isinstance(name_or_id, int) and not isinstance(name_or_id, bool):
        if name_or_id in _BY_ID:
            return name_or_id
        raise BTHomeError("unknown object 0x%02x" % (name_or_id & 0xFFFF))
    if not isinstance(name_or_id, str):
        raise BTHomeError("unknown object %r" % (name_or_id,))
    oid = _BY_NAME.get(name_or_id)
    if oid is None:
        raise BTHomeError("unknown object %s" % (name_or_id,))
    return oid


def _encode_object(oid, value, out):
    spec = _BY_ID[oid]
    name, size, signed, decimals = spec[1], spec[2], spec[3], spec[4]
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, (int, float)):
        raise BTHomeError("bad value for %s" % name)
    try:
        raw = round(value * (10 ** decimals)) if decimals else round(value)
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


def encode(objects, mac, key=None, counter=0, trigger=False):
    """Service data for `objects`, each a (name or id, value) pair or a dict
    with "id" or "name" and "value". They are sent in the order given (the
    spec asks senders for ascending ids). With `key` the packet is encrypted;
    `counter` must then grow with every packet the device sends."""
    payload = bytearray()
    for obj in objects:
        if isinstance(obj, dict):
            which = obj.get("id", obj.get("name"))
            value = obj.get("value")
        else:
            which, value = obj
        _encode_object(object_id(which), value, payload)
    key = _key_bytes(key)
    info = _VERSION_2 | (_TRIGGER if trigger else 0)
    if key is None:
        return bytes((info,)) + bytes(payload)
    info |= _ENCRYPTED
    if not isinstance(counter, int) or not 0 <= counter <= 0xFFFFFFFF:
        raise BTHomeError("counter out of range")
    counter4 = bytes((counter & 0xFF, (counter >> 8) & 0xFF,
                      (counter >> 16) & 0xFF, (counter >> 24) & 0xFF))
    ct, mic = ccm.encrypt(key, _nonce(parse_mac(mac), info, counter4), payload,
                          mic_len=_MIC_LEN)
    return bytes((info,)) + ct + counter4 + mic
