# What a sequence of key presses means. Pure: the keypad driver feeds presses,
# this returns intents; the panel decides what they do.
#
# Key map (4x4 membrane):  0-9 digits, A Away, B Home, C Off, D police (panic),
# * X (starts a function: *1 bypass, *5 user codes), # check (enter).
#   [code] A / B        arm Away / Home (code optional unless code_to_arm)
#   [code] C  or  [code] #     disarm
#   [code] * 1 NN #     bypass zone NN for the next armed period (toggle)
#   [master] * 5 NN [new code] #   set user NN's code; no new code deletes NN
#   D                   police panic, at once
#   hold * and # 2 s    panic
from panel import ticks

IDLE_MS = 5000       # an unfinished entry is forgotten after this
LONGEST = 24
KEYS = "0123456789ABCD*#"


class Entry:
    def __init__(self):
        self.buf = ""
        self.last = None

    def clear(self):
        self.buf = ""

    def age(self, now):
        # Called on every tick, so an entry is forgotten long before its age
        # could wrap round the tick counter and look fresh again.
        if self.last is not None and ticks.since(now, self.last) > IDLE_MS:
            self.buf = ""
            self.last = None

    def press(self, now, key):
        # Returns None (keep typing) or a tuple:
        # ("panic",), ("arm", "away"|"home", code), ("disarm", code),
        # ("function", code, digits_after_star), ("error", reason)
        self.age(now)
        self.last = now
        if key == "D":
            self.buf = ""
            return ("panic",)
        if key in "0123456789*":
            if len(self.buf) >= LONGEST:
                self.buf = ""
                return ("error", "entry too long")
            self.buf += key
            return None
        buf = self.buf
        self.buf = ""
        star = buf.find("*")
        code = buf if star < 0 else buf[:star]
        code = code or None
        if key == "A":
            return ("arm", "away", code) if star < 0 else ("error", "bad entry")
        if key == "B":
            return ("arm", "home", code) if star < 0 else ("error", "bad entry")
        if key == "C":
            return ("disarm", code) if star < 0 else ("error", "bad entry")
        # key == "#"
        if star < 0:
            return ("disarm", code) if code else None
        rest = buf[star + 1:]
        if "*" in rest or not rest:
            return None  # "*#" from a panic hold, or a stray star: nothing to do
        return ("function", code, rest)
