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

# Live status bits.
OPEN = const(0x01)
BYPASSED = const(0x02)    # for the current (or next) armed period
SHUT_DOWN = const(0x04)   # swinger shutdown until the next arm or disarm
TAMPERED = const(0x08)
LOW_BATTERY = const(0x10)
LOST = const(0x20)        # supervision loss reported

TYPES = ("contact", "motion", "glass_break", "panic", "tamper", "fire")


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
