# The BLE sensors the hub knows: which zone each one is, its bind key, the
# last counter and packet id seen, and what its objects mean to the panel.
#
# Checks, in order, per advert: known MAC (else ignored, or listed while
# enrolling), decodes as BTHome v2, MIC verifies with the bind key, counter is
# above the last one accepted (kept across reboots), packet id is new. Every
# advert that fails is counted and dropped; nothing raises.
from radio import bthome
from panel import zones as Z
from panel.config import BUTTON_DEFAULT
from panel.compat import const

# Which BTHome objects trip a zone by default, and what the panel hears then:
# its type's row in panel/zones.py.
BATTERY_LOW_PERCENT = 20
BATTERY_OK_PERCENT = 25            # hysteresis: no flapping around 20 %
ENROL_LIST = 16                    # at most this many unknown sensors listed


# A sensor is a row, not an object: an instance's attribute dict costs about
# twice the list's slots (2.5 KB more for 32 sensors on the board).
S_ZONE = const(0)         # zone name
S_KIND = const(1)         # its type's row in panel/zones.py
S_KEY = const(2)          # 16 bytes or None
# Object names that trip this zone and, when one is "button", the button
# events that do (no BTHome object is named like an event).
S_TRIP_ON = const(3)
S_COUNTER = const(4)
S_PACKET_ID = const(5)
S_STATE = const(6)        # last value per binary object, to report changes only: _changed
S_RSSI = const(7)
S_BATTERY = const(8)
S_REPORTED = const(9)     # (battery, rssi) last put on the status topic


def sensor(zone, kind, key, trip_on):
    return [zone, kind, key, trip_on, -1, None, 0, None, None, None]


class Sensors:
    def __init__(self):
        self.by_mac = {}
        self.enrolling = False
        self.heard = {}           # unknown MAC -> (rssi, encrypted) while enrolling
        self.counts = {"accepted": 0, "unknown": 0, "malformed": 0, "forged": 0,
                       "replayed": 0, "duplicate": 0, "unknown_objects": 0}
        self.last = None          # the sensor whose advert was accepted last

    def add(self, mac, zone, ztype, key=None, objects=None, button_events=None):
        # button_events: as panel.config.button_events() checked them.
        kind = Z.kind(ztype)      # the config let only known types through
        if objects is None:
            objects = kind[Z.T_OBJECTS]
        objects = tuple(objects)
        if "button" in objects:
            objects += tuple(button_events or BUTTON_DEFAULT)
        self.by_mac[bthome.format_mac(bthome.parse_mac(mac))] = sensor(
            zone, kind, _key(key), objects)

    def counters(self):
        # {mac: last counter} for the flash store.
        return dict((m, s[S_COUNTER]) for m, s in self.by_mac.items() if s[S_COUNTER] >= 0)

    def restore_counters(self, saved):
        for mac in saved:
            s = self.by_mac.get(mac)
            if s is not None:
                s[S_COUNTER] = saved[mac]

    def wanted(self, mac):
        # Worth queueing for the loop? Strangers (the neighbours' sensors) are
        # counted here and take no room from ours, unless we are enrolling.
        if self.enrolling or mac in self.by_mac:
            return True
        self.counts["unknown"] += 1
        return False

    def advert(self, mac, data, rssi=None):
        # One BTHome service-data payload from `mac` (AA:BB:.. text).
        # Returns [(zone, event)] for the panel; [] when dropped.
        s = self.by_mac.get(mac)
        if s is None:
            self.counts["unknown"] += 1
            if self.enrolling and (mac in self.heard or len(self.heard) < ENROL_LIST):
                self.heard[mac] = (rssi, bool(data) and bool(data[0] & 1))
            return []
        try:
            result = bthome.decode(data, mac, s[S_KEY])
        except bthome.BTHomeError as e:
            # A bad MIC, or a plain advert from a sensor that has a key: a forgery.
            self.counts["forged" if e.code == bthome.FORGED else "malformed"] += 1
            return []
        if s[S_KEY] is not None:
            if result["counter"] <= s[S_COUNTER]:
                self.counts["replayed"] += 1
                return []
            s[S_COUNTER] = result["counter"]
        if result["unknown"]:
            # Objects newer than our table: the ones before them still count.
            self.counts["unknown_objects"] += 1
        events = []
        pid = None
        for obj in result["objects"]:
            if obj["name"] == "packet_id":
                pid = obj["value"]
        if pid is not None and pid == s[S_PACKET_ID]:
            # Sensors repeat each advert several times; one is enough.
            self.counts["duplicate"] += 1
            return [(s[S_ZONE], "checkin")]
        s[S_PACKET_ID] = pid
        s[S_RSSI] = rssi
        self.last = s
        self.counts["accepted"] += 1
        for obj in result["objects"]:
            self._meaning(s, obj, events)
        events.append((s[S_ZONE], "checkin"))
        return events

    def _meaning(self, s, obj, events):
        name = obj["name"]
        value = obj["value"]
        if name == "battery":
            s[S_BATTERY] = value
            # Between the two thresholds the last verdict stands.
            if value < BATTERY_LOW_PERCENT:
                if _changed(s, "battery_low", True):
                    events.append((s[S_ZONE], "battery_low"))
            elif value >= BATTERY_OK_PERCENT:
                if _changed(s, "battery_low", False):
                    events.append((s[S_ZONE], "battery_ok"))
        elif name == "battery_low":
            if _changed(s, name, value):
                events.append((s[S_ZONE], "battery_low" if value else "battery_ok"))
        elif name == "tamper":
            if s[S_KIND][Z.T_NAME] == "tamper":
                if _changed(s, name, value):
                    events.append((s[S_ZONE], "open" if value else "close"))
            elif _changed(s, name, value):
                events.append((s[S_ZONE], "tamper" if value else "tamper_restore"))
        elif name == "button":
            # Only the events the zone names: bthome gives None for 0x00 and
            # undefined codes, "hold_release" for letting go; none is a press.
            if name in s[S_TRIP_ON] and obj["event"] in s[S_TRIP_ON]:
                events.append((s[S_ZONE], "press"))
        elif name in s[S_TRIP_ON]:
            if s[S_KIND][Z.T_FLAGS] & Z.CLOSES:
                if _changed(s, name, value):
                    events.append((s[S_ZONE], s[S_KIND][Z.T_TRIP] if value else "close"))
            elif value:
                # Motion, glass-break, smoke: every new detection is a trip.
                events.append((s[S_ZONE], s[S_KIND][Z.T_TRIP]))


def news(s):
    # {"battery", "rssi"} worth reporting for sensor s, or None: a battery
    # change, or the signal moving by 6 dB or more (it jitters by a few).
    if s[S_REPORTED] is not None:
        battery, rssi = s[S_REPORTED]
        if battery == s[S_BATTERY] and (
                s[S_RSSI] is None or rssi is not None and -6 < s[S_RSSI] - rssi < 6):
            return None
    s[S_REPORTED] = (s[S_BATTERY], s[S_RSSI])
    return {"battery": s[S_BATTERY], "rssi": s[S_RSSI]}


# A sensor's binary objects are two bits each of one small int (S_STATE):
# "heard" and the value. A dict per sensor cost about 35 B more on the
# board; each name takes its bit pair on first use, the same for every sensor.
_PAIRS = {}


def _changed(s, name, value):
    pair = _PAIRS.get(name)
    if pair is None:
        pair = _PAIRS[name] = 3 << 2 * len(_PAIRS)
    heard = pair & (pair >> 1)
    bits = pair if value else heard
    state = s[S_STATE]
    if state & pair == bits:
        return False
    s[S_STATE] = state & ~pair | bits
    return True


def _key(key):
    if key is None:
        return None
    if isinstance(key, str):
        import binascii
        return binascii.unhexlify(key)
    return bytes(key)
