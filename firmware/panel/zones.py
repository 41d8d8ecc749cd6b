# The zone table: static settings per zone plus its live status.
# Kept as parallel lists and bytearrays rather than one object per zone so 32
# zones cost a few hundred bytes of heap on the board, not several KB.
from panel.compat import const

# Armed modes a zone is active in.
HOME = const(1)
AWAY = const(2)

# Static flags.
DELAYED = const(0x01)     # entry/exit path: opening it starts the entry delay
FOLLOWER = const(0x02)    # delayed only while an entry delay already runs
H24 = const(0x04)         # active in every mode, disarmed included
CHIME = const(0x08)       # chime on the keypad when opened while disarmed
AUTO_BYPASS = const(0x10)  # bypassed instead of blocking arming when open
SUPERVISED = const(0x20)  # wireless: must check in within the supervision time
MOMENTARY = const(0x40)   # motion, glass-break, button: trips, never stays open
WIRED = const(0x80)
ALARM_DISARMED = const(0x100)  # tamper zone: a full alarm while disarmed too, not a trouble
CLOSES = const(0x200)     # its sensor reports closing too: open/close, not trips

# Live status bits.
OPEN = const(0x01)
BYPASSED = const(0x02)    # for the current (or next) armed period
SHUT_DOWN = const(0x04)   # swinger shutdown until the next arm or disarm
TAMPERED = const(0x08)
LOW_BATTERY = const(0x10)
LOST = const(0x20)        # supervision loss reported

# The zone types: the one place a type is defined. The config, the panel,
# the radio, Home Assistant discovery and the simulation all read it
# (host_tests/panel/test_zone_types.py holds them to it); what only the
# simulation needs is in tools/sim/zone_types.py. A tuple of tuples, not an
# object per type. The tuple([...]) calls make the board build it at import,
# not load it as constant tuples: each name in it is then interned once, not
# a string object per mention (416 bytes less heap on the host micropython).
T_NAME = const(0)
T_FLAGS = const(1)     # H24 (its alarm in every mode, at once), MOMENTARY, CLOSES
T_MODES = const(2)     # armed modes when the config names none (a 24-hour zone ignores them)
T_EVENT = const(3)     # Contact ID event of its alarm (panel/contact_id.py)
T_CLASS = const(4)     # Home Assistant binary_sensor device class
T_OBJECTS = const(5)   # BTHome objects that trip it when the config names none
T_TRIP = const(6)      # the zone event the radio makes of a detection
TYPES = (
    ("contact", CLOSES, HOME | AWAY, 130, "opening",
     tuple(["door", "window", "opening", "garage_door"]), "open"),
    ("motion", MOMENTARY, AWAY, 130, "motion",
     tuple(["motion", "occupancy", "moving", "presence"]), "motion"),
    # BTHome has no glass-break object.
    ("glass_break", MOMENTARY, HOME | AWAY, 130, "vibration",
     tuple(["vibration", "sound"]), "glass_break"),
    ("panic", H24 | MOMENTARY, HOME | AWAY, 120, "safety", tuple(["button"]), "press"),
    ("tamper", H24, HOME | AWAY, 137, "tamper", tuple(["tamper"]), "open"),
    ("fire", H24, HOME | AWAY, 110, "smoke", tuple(["smoke"]), "open"),
)


def kind(value, col=T_NAME):
    """The first TYPES row whose column col holds value (by default the type
    named value), or None."""
    for t in TYPES:
        if t[col] == value:
            return t
    return None


class Zones:
    def __init__(self):
        self.numbers = []
        self.names = []
        self.types = []
        self.flags = []
        self.modes = []
        self.status = bytearray(0)
        self.trips = bytearray(0)
        self.last_seen = []

    def add(self, number, name, ztype, flags, modes):
        self.numbers.append(number)
        self.names.append(name)
        self.types.append(ztype)
        self.flags.append(flags)
        self.modes.append(modes)
        self.status.append(0)
        self.trips.append(0)
        self.last_seen.append(None)

    def __len__(self):
        return len(self.numbers)

    def index(self, ref):
        # A zone by name or number; -1 when there is none.
        names = self.names if isinstance(ref, str) else self.numbers
        for i in range(len(names)):
            if names[i] == ref:
                return i
        return -1

    def has(self, i, flag):
        return self.flags[i] & flag

    def is_(self, i, bit):
        return self.status[i] & bit

    def set(self, i, bit, on):
        if on:
            self.status[i] |= bit
        else:
            self.status[i] &= ~bit & 0xFF

    def active_in(self, i, mode):
        return self.flags[i] & H24 or self.modes[i] & mode

    def new_period(self):
        # Arming or disarming starts a new period: swinger counts and shutdowns clear.
        for i in range(len(self.numbers)):
            self.trips[i] = 0
            self.status[i] &= ~SHUT_DOWN & 0xFF
