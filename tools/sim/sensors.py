"""Virtual sensors: turn "zone X does event Y" into what the hub would really
receive. A BLE zone sends an encrypted BTHome v2 advert from its MAC with its
bind key, as a Shelly BLU sensor does; a wired zone changes a pin level."""
import time


from panel import zones as Z
from radio import bthome
from radio import bthome_encode
from tools.sim import zone_types

# Zone event -> value of the zone's own object.
_VALUE = zone_types.values()
BATTERY_OK, BATTERY_LOW = 88, 10


class UnknownZone(ValueError):
    pass


class Zone:
    def __init__(self, raw):
        self.number = raw.get("number")
        self.name = raw.get("name")
        self.type = raw.get("type")
        self.pin = raw.get("pin")
        self.mac = raw.get("mac")
        self.key = bytes.fromhex(raw["key"]) if raw.get("key") else None
        obj = raw.get("object")
        if isinstance(obj, list):
            obj = obj[0] if obj else None
        if obj is None:
            # The first object of its type's row is the one it reports.
            obj = "window" if self.type == "contact" and "window" in (self.name or "") \
                else (Z.kind(self.type) or Z.TYPES[0])[Z.T_OBJECTS][0]
        self.object = obj
        # Pressing a panic button the way that trips it: the zone's first
        # button event (the hub's default is a long press).
        press = (raw.get("button_events") or ["long_press"])[0]
        self.press_code = [c for c in bthome.BUTTON_EVENTS if bthome.BUTTON_EVENTS[c] == press][0]
        self.battery = BATTERY_OK
        # Counters only grow, also across runs that reuse a hub's saved state.
        self.counter = int(time.time())

    @property
    def kind(self):
        return "wired" if self.pin is not None else "ble" if self.mac else "none"

    def events(self):
        """The events a person can cause on this zone (for the page)."""
        if self.kind == "wired":
            return ["open", "close"]
        return zone_types.page_events(self.type)


class Sensors:
    def __init__(self, config):
        self.zones = [Zone(z) for z in config.get("zones", [])]

    def find(self, ref):
        for z in self.zones:
            if ref == z.name or ref == z.number or str(ref) == str(z.number):
                return z
        raise UnknownZone("unknown zone %r (zones: %s)"
                          % (ref, ", ".join(str(z.name) for z in self.zones)))

    def wired_pins(self):
        return [z.pin for z in self.zones if z.pin is not None]

    def input_for(self, ref, event):
        """("level", pin, value) or ("advert", mac, hex) for a zone event."""
        z = self.find(ref)
        if z.kind == "wired":
            if event not in _VALUE:
                raise ValueError("a wired zone opens or closes, not %r" % event)
            return ("level", z.pin, _VALUE[event])
        if z.kind != "ble":
            raise UnknownZone("zone %s has neither a pin nor a BLE sensor" % z.name)
        return ("advert", z.mac, self.advert(z, event).hex())

    def advert(self, z, event):
        z.counter += 1
        objects = [("packet_id", z.counter & 0xFF)]
        if event in ("battery_low", "battery_ok"):
            z.battery = BATTERY_LOW if event == "battery_low" else BATTERY_OK
        objects.append(("battery", z.battery))
        if event == "tamper" or event == "tamper_restore":
            objects.append(("tamper", _VALUE[event]))
        elif event == "press" and z.object == "button":
            objects.append((z.object, z.press_code))
        elif event in _VALUE:
            objects.append((z.object, _VALUE[event]))
        elif event not in ("checkin", "battery_low", "battery_ok"):
            raise ValueError("unknown zone event %r" % event)
        objects.sort(key=lambda o: bthome.object_id(o[0]))   # BTHome asks for ascending ids
        return bthome_encode.encode(objects, z.mac, z.key, z.counter)
