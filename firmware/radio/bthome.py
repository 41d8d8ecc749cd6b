# BTHome v2 service data (16-bit UUID 0xFCD2): decode what sensors advertise,
# and encode the same, so the simulation can play real sensors.
#
# Layout: device-info byte, [MAC reversed, 6 bytes, if bit 1], then objects.
# Encrypted: info | ciphertext | counter (4, LE) | MIC (4), AES-CCM with nonce
# MAC | D2 FC | info | counter. Objects carry no length: it follows from the
# id, so one unknown id makes the rest of the packet unreadable; the objects
# before it are still good (a sensor newer than our table still opens doors).
import binascii

from crypto import ccm

from panel.compat import const

UUID = const(0xFCD2)
_ENCRYPTED = const(0x01)
_MAC_INCLUDED = const(0x02)
_TRIGGER = const(0x04)
_VERSION_2 = const(0x40)
_VERSION_MASK = const(0xE0)
_COUNTER_AND_MIC = const(8)
_UUID_LE = b"\xd2\xfc"

# One object per line: id (2 hex digits), bytes (1 digit), u(nsigned)/s(igned),
# scale, then a space and the name; "3a1u0 button" is id 0x3A, 1 byte, unsigned,
# scale 0 (run together: four bytes of flash fewer a line than spaced out). The
# commonest, "1u0", is left out: "3a button" says the same.
# Value = raw / 10**scale, or raw * M / 10**D for a scale "D*M" (0x58 steps
# by 0.35). Size "v": a length byte comes first (text, raw, command). Ids,
# sizes and scales follow the BTHome v2 format table (bthome.io/format).
# Binary sensors: 0 = off/closed/normal, 1 = on/open/detected. Kept as one
# text and searched, not as ~100 tuples and two dicts: on the board that saves
# over 10 KB of heap. Ascending ids, so a name shared by several ids finds the
# lowest first.
_TABLE = """
00 packet_id
01 battery
022s2 temperature
032u2 humidity
043u2 pressure
053u2 illuminance
062u2 mass_kg
072u2 mass_lb
082s2 dew_point
09 count
0a3u3 energy
0b3u2 power
0c2u3 voltage
0d2u0 pm2_5
0e2u0 pm10
0f generic_boolean
10 power_on
11 opening
122u0 co2
132u0 tvoc
142u2 moisture
15 battery_low
16 battery_charging
17 carbon_monoxide
18 cold
19 connectivity
1a door
1b garage_door
1c gas_detected
1d heat
1e light
1f lock
20 moisture_detected
21 motion
22 moving
23 occupancy
24 plug
25 presence
26 problem
27 running
28 safety
29 smoke
2a sound
2b tamper
2c vibration
2d window
2e humidity
2f moisture
3a button
3bvu0 command
3c2u0 dimmer
3d2u0 count
3e4u0 count
3f2s1 rotation
402u0 distance_mm
412u1 distance_m
423u3 duration
432u3 current
442u2 speed
452s1 temperature
461u1 uv_index
472u1 volume
482u0 volume_ml
492u3 volume_flow_rate
4a2u1 voltage
4b3u3 gas
4c4u3 gas
4d4u3 energy
4e4u3 volume
4f4u3 water
504u0 timestamp
512u3 acceleration
522u3 gyroscope
53vu0 text
54vu0 raw
554u3 volume_storage
562u0 conductivity
571s0 temperature
581s2*35 temperature
591s0 count
5a2s0 count
5b4s0 count
5c4s2 power
5d2s3 current
5e2u2 direction
5f2u1 precipitation
60 channel
612u0 rotational_speed
624s6 speed
634s6 acceleration
64 light_level
65 settings_revision
f02u0 device_type
f14u0 firmware_version
f23u0 firmware_version
"""

_BUTTON = const(0x3A)
_COMMAND = const(0x3B)
_DIMMER = const(0x3C)
_TEXT = const(0x53)
_RAW = const(0x54)
_ARGS_MASK = const(0x1F)   # a command's length byte: low 5 bits = argument bytes
# Event codes; 0x00 and any code not listed is no event at all (event None).
BUTTON_EVENTS = {0x01: "press", 0x02: "double_press", 0x03: "triple_press",
                 0x04: "long_press", 0x05: "long_double_press",
                 0x06: "long_triple_press", 0x80: "hold_press", 0x81: "hold_release"}
DIMMER_EVENTS = {0x01: "rotate_left", 0x02: "rotate_right"}
COMMAND_EVENTS = {0x00: "off", 0x01: "on", 0x02: "toggle", 0x03: "step_up", 0x04: "step_down"}


def _spec_at(i):
    # The (id, name, bytes, signed, decimals, multiplier) of the line at i.
    head, name = _TABLE[i:_TABLE.index("\n", i)].split()
    if len(head) == 2:
        head += "1u0"
    oid, size, sign, scale = head[:2], head[2], head[3], head[4:]
    mult = 1
    if "*" in scale:
        scale, mult = scale.split("*")
    return (int(oid, 16), name, 0 if size == "v" else int(size), sign == "s", int(scale),
            int(mult))


def spec(oid):
    """(id, name, bytes (0: a length byte says), signed, decimals, multiplier)
    for an object id, or None."""
    i = _TABLE.find("\n%02x" % oid) if 0 <= oid <= 0xFF else -1
    return None if i < 0 else _spec_at(i + 1)


# BTHomeError.code: the hub counts a forgery apart from a garbled advert, and
# must not tell them apart by the reason's wording. FORGED, or 0 (malformed).
FORGED = const(1)


class BTHomeError(Exception):
    def __init__(self, reason, code=0):
        super().__init__(reason)
        self.reason = reason
        self.code = code


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


def _scaled(raw, decimals, mult):
    if mult != 1:
        raw *= mult
    if decimals:
        return raw / (10 ** decimals)  # a division rounds right: 2506/100 == 25.06
    return raw


def _variable(payload, pos, oid, obj):
    # A text, raw or command object at pos (its id); returns where it ends.
    if pos + 1 >= len(payload):
        raise BTHomeError("short packet")
    n = payload[pos + 1]
    start = pos + 2
    if oid == _COMMAND:
        n = 1 + (n & _ARGS_MASK)        # the opcode, then its arguments
    end = start + n
    if end > len(payload):
        raise BTHomeError("short packet")
    data = payload[start:end]
    if oid == _TEXT:
        try:
            obj["value"] = data.decode("utf-8")
        except UnicodeError:
            obj["value"] = None
    elif oid == _RAW:
        obj["value"] = binascii.hexlify(data).decode()
    else:
        obj["value"] = data[0]
        obj["event"] = COMMAND_EVENTS.get(data[0])
        obj["args"] = binascii.hexlify(data[1:]).decode()
    return end


def _decode_objects(payload, result):
    # Objects carry no length of their own, so an id this table does not know
    # ends the reading: the objects before it stand, the rest is counted.
    objects = []
    pos = 0
    n = len(payload)
    while pos < n:
        oid = payload[pos]
        sp = spec(oid)
        if sp is None:
            result["unknown"] = n - pos
            break
        obj = {"id": oid, "name": sp[1]}
        size = sp[2]
        if not size:
            pos = _variable(payload, pos, oid, obj)
            objects.append(obj)
            continue
        if pos + 1 + size > n:
            raise BTHomeError("short packet")
        raw = _le(payload, pos + 1, size, sp[3])
        obj["value"] = _scaled(raw, sp[4], sp[5])
        if oid == _BUTTON:
            obj["event"] = BUTTON_EVENTS.get(raw)
        elif oid == _DIMMER:
            obj["event"] = DIMMER_EVENTS.get(raw & 0xFF)
            obj["steps"] = raw >> 8
        objects.append(obj)
        pos += 1 + size
    result["objects"] = objects


def decode(service_data, mac, key=None):
    """Decode BTHome v2 service data sent by the device with address `mac`.

    Returns {"version", "mac", "encrypted", "trigger", "counter" (None when
    plain), "objects": [{"id", "name", "value"[, "event", "steps", "args"]}, ...],
    "unknown": bytes left unread from an object id this decoder does not know}.
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
              "trigger": bool(info & _TRIGGER), "counter": None, "unknown": 0}
    if info & _ENCRYPTED:
        if key is None:
            raise BTHomeError("encrypted but no key")
        if len(data) - pos < _COUNTER_AND_MIC:
            raise BTHomeError("short packet")
        counter4 = data[-8:-4]
        payload = ccm.decrypt(key, _nonce(mac6, info, counter4), data[pos:-8], data[-4:])
        if payload is None:
            raise BTHomeError("bad MIC", FORGED)
        result["counter"] = _le(counter4, 0, 4, False)
    else:
        if key is not None:
            raise BTHomeError("key given but packet not encrypted", FORGED)
        payload = data[pos:]
    _decode_objects(payload, result)
    return result


def object_id(name_or_id):
    """The object id for a name ("door") or an id (0x1A); BTHomeError if unknown."""
    if isinstance(name_or_id, int) and not isinstance(name_or_id, bool):
        if spec(name_or_id) is not None:
            return name_or_id
        raise BTHomeError("unknown object 0x%02x" % (name_or_id & 0xFFFF))
    if not isinstance(name_or_id, str) or not name_or_id or " " in name_or_id \
            or "\n" in name_or_id:
        raise BTHomeError("unknown object %r" % (name_or_id,))
    i = _TABLE.find(" %s\n" % name_or_id)
    if i < 0:
        raise BTHomeError("unknown object %s" % (name_or_id,))
    j = _TABLE.rindex("\n", 0, i) + 1
    return int(_TABLE[j:j + 2], 16)     # two characters, not a copy of the table's rest
