# Siren, keypad buzzer and status LED: named patterns played on one pin.
#
# A pattern is a text of level:ms steps. Continuous patterns loop until
# replaced; one-shot patterns (chirps, chime, key feedback) play once and then
# the continuous pattern underneath resumes. Texts, not tuples: as constants
# in a .mpy they cost a few bytes each where nested tuples cost kilobytes.
from panel import ticks

SIREN = {
    "off": "0:1000",
    "steady": "1:1000",
    # ANSI/NFPA temporal-3: three 0.5 s pulses, then 1.5 s quiet.
    "temporal3": "1:500 0:500 1:500 0:500 1:500 0:1500",
}
SIREN_ONCE = {
    "chirp1": "1:80",
    "chirp2": "1:80 0:120 1:80",
}
BUZZER = {
    "off": "0:1000",
    "exit": "1:100 0:900",
    "exit_fast": "1:100 0:300",
    "entry": "1:250 0:250",
    "alarm": "1:500 0:200",
}
BUZZER_ONCE = {
    "click": "1:15",
    "chime": "1:150 0:100 1:300",
    "trouble": "1:60 0:60 1:60 0:60 1:60",
    "ok": "1:80 0:80 1:80",
    "error": "1:700",
    "locked": "1:150 0:100 1:150 0:100 1:150 0:100 1:150",
}
LED = {
    "disarmed": "0:1000",
    "arming": "1:250 0:250",
    "armed_home": "1:1000",
    "armed_away": "1:1000",
    "pending": "1:100 0:100",
    "triggered": "1:50 0:50",
    "trouble": "1:100 0:1900",   # safe mode: config refused
}


def steps(pattern):
    # "1:500 0:500" -> [(1, 500), (0, 500)]
    out = []
    for step in pattern.split():
        level, ms = step.split(":")
        out.append((int(level), int(ms)))
    return out


OFF = steps("0:1000")


class PatternOutput:
    def __init__(self, pin, patterns, once=None, active_high=True):
        self.pin = pin
        self.patterns = patterns
        self.once = once or {}
        self.active_high = active_high
        self.name = "off" if "off" in patterns else None
        self._steps = OFF
        self._oneshot = None
        self._step = 0
        self._next = None
        self._drive(0)

    def play(self, name, now):
        if name in self.once:
            self._oneshot = steps(self.once[name])
        elif name in self.patterns:
            self.name = name
            self._steps = steps(self.patterns[name])
            self._oneshot = None
        else:
            return False
        self._step = 0
        self._start(now)
        return True

    def update(self, now):
        if self._next is None or ticks.diff(now, self._next) < 0:
            return
        self._step += 1
        run = self._oneshot or self._steps
        if self._step >= len(run):
            self._step = 0
            if self._oneshot is not None:
                self._oneshot = None
        self._start(now)

    def _start(self, now):
        run = self._oneshot or self._steps
        level, ms = run[self._step]
        self._drive(level)
        # A single-step continuous pattern never needs waking again.
        self._next = None if (len(run) == 1 and self._oneshot is None) else ticks.add(now, ms)

    def _drive(self, level):
        self.level = level
        self.pin.value(level if self.active_high else 1 - level)
