# Scenario replay: JSON Lines of timestamped inputs in, JSON Lines of the
# panel's outputs out. The same file runs under CPython, the host `micropython`
# and on the board (to replay a field log), so it only uses json and the panel.
#
# Input lines (t: ms since the start, never decreasing, at most MAX_T; a line
# that is not one of these is an error line naming its number, never a crash):
#   {"config": {...}}                      optional, first line only
#   {"t": 0, "keys": "1234A"}               key presses, in order, at t
#   {"t": 0, "hold": ["*", "#"], "ms": 2500} keys held together from t for ms
#   {"t": 0, "zone": "front_door", "event": "open"}
#   {"t": 0, "command": {"action": "ARM_AWAY", "code": "1234"}}
#   {"t": 0, "until": 90000}                 let time run to 90000
#   {"note": "..."}                          a comment, ignored (also beside any of these)
import json
from panel import ticks
from panel.config import Config, ConfigError
from panel.panel import Panel
from panel.keypad import KEYS

# The latest time a scenario may reach: a year. Time runs deadline by
# deadline (the supervision check comes every minute), so this bounds the
# work a single line can ask for.
MAX_T = 366 * 24 * 3600 * 1000

# Used when a scenario brings no config line: a small house.
DEFAULT_CONFIG = {
    "zones": [
        {"number": 1, "name": "front_door", "type": "contact", "delayed": True, "chime": True},
        {"number": 2, "name": "back_door", "type": "contact", "delayed": True},
        {"number": 3, "name": "living_window", "type": "contact"},
        {"number": 4, "name": "hall_motion", "type": "motion", "follower": True},
        {"number": 5, "name": "living_glass", "type": "glass_break"},
        {"number": 6, "name": "panic_button", "type": "panic"},
        {"number": 7, "name": "hub_tamper", "type": "tamper", "wired": True},
        {"number": 8, "name": "kitchen_smoke", "type": "fire"},
    ],
    "users": [
        {"number": 1, "name": "owner", "code": "1234", "role": "master"},
        {"number": 2, "name": "guest", "code": "5678"},
        {"number": 9, "name": "duress", "code": "9999", "role": "duress"},
    ],
}


class Replay:
    def __init__(self, write, random_bytes, tick0=0):
        self.write = write
        self.random_bytes = random_bytes
        self.tick0 = tick0
        self.panel = None
        self.t = 0               # scenario time of the last thing done
        self.releases = []       # [t, ...] when held keys are let go
        self.lineno = 0
        self.errors = 0
        self.refused = False

    def feed(self, line):
        # line: text, or bytes (decoded here: invalid UTF-8 is a bad line).
        self.lineno += 1
        if isinstance(line, bytes):
            try:
                line = line.decode()
            except UnicodeError:
                return self._error("line %d: not valid UTF-8" % self.lineno)
        line = line.strip(" \t\r\n")   # JSON's whitespace, the same in both runtimes
        if not line:
            return
        try:
            item = json.loads(line)
        except Exception:        # ValueError; RecursionError/MemoryError when nested deep
            return self._error("line %d: not valid JSON" % self.lineno)
        if not isinstance(item, dict):
            return self._error("line %d: each line must be a JSON object" % self.lineno)
        if "note" in item and len(item) == 1:
            return
        if "config" in item:
            if self.panel is not None or self.refused:
                return self._error("line %d: config must be the first line" % self.lineno)
            return self._start(item["config"])
        if self.panel is None and not self.refused:
            self._start(DEFAULT_CONFIG)
        t = item.get("t", self.t)
        if not _whole(t) or t < self.t:
            return self._error("line %d: t must be whole ms, not before %d" % (self.lineno, self.t))
        if t > MAX_T:
            return self._error("line %d: t must be at most %d (a year)" % (self.lineno, MAX_T))
        problem = _check(item)
        if problem:
            return self._error("line %d: %s" % (self.lineno, problem))
        if self.refused:
            return   # a panel never runs on a config it refused (bad lines still said)
        if "until" in item:
            t = max(t, item["until"])
        self._run_to(t)
        now = self._tick(t)
        p = self.panel
        try:
            if "keys" in item:
                for k in item["keys"]:
                    p.press(now, k)
            elif "hold" in item:
                p.hold(now, item["hold"])
                self.releases.append(t + item["ms"])
                self.releases.sort()
            elif "zone" in item:
                p.zone(now, item["zone"], item["event"])
            elif "command" in item:
                p.command(now, item["command"])
        except Exception as e:   # a panel bug on an input it should refuse: say so, go on
            p.take()
            return self._error("line %d: the panel failed on it: %s %s"
                               % (self.lineno, type(e).__name__, e))
        self._flush(self.lineno)

    def _start(self, raw):
        try:
            cfg = Config(raw, self.random_bytes)
        except ConfigError as e:
            self.errors += 1
            self.refused = True
            self._out({"error": "config: " + str(e), "field": e.field})
            return
        self.panel = Panel(cfg, self._tick(0))

    def _tick(self, t):
        return ticks.add(self.tick0, t)

    def _run_to(self, t):
        # Fire deadlines and key releases that fall before t, in time order.
        p = self.panel
        while True:
            d = p.next_due()
            td = None if d is None else self.t + ticks.diff(d, self._tick(self.t))
            rel = self.releases[0] if self.releases else None
            if rel is not None and rel <= t and (td is None or rel <= td):
                self.releases.pop(0)
                self.t = rel
                p.release(self._tick(rel))
            elif td is not None and td <= t:
                self.t = td
                p.tick(d)
            else:
                break
            self._flush()
        self.t = t

    def _flush(self, lineno=0):
        for o in self.panel.take():
            if lineno and "error" in o:
                o["error"] = "line %d: %s" % (lineno, o["error"])
            self._out(o)

    def _error(self, why):
        self.errors += 1
        self._out({"error": why})

    def _out(self, item):
        # "t" first so a person can read the stream; json handles the rest.
        body = json.dumps(item)
        self.write('{"t": %d, %s\n' % (self.t, body[1:]))


_FIELDS = ("t", "note", "until", "keys", "hold", "ms", "zone", "event", "command")


def _whole(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check(item):
    kind = None
    for k in item:
        if k not in _FIELDS:
            return "unknown field %r" % (k,)
        if k in ("keys", "hold", "zone", "command"):
            if kind:
                return "one of keys, hold, zone or command per line"
            kind = k
    if "until" in item:
        until = item["until"]
        if not _whole(until) or until < 0 or until > MAX_T:
            return "until must be whole ms, 0..%d (a year)" % MAX_T
    if kind == "keys":
        keys = item["keys"]
        if not isinstance(keys, str) or not keys:
            return "keys must be a text of keys"
        for k in keys:
            if k not in KEYS:
                return "unknown key %r (keys are %s)" % (k, KEYS)
    elif kind == "hold":
        keys = item["hold"]
        if not isinstance(keys, list) or not keys:
            return "hold must be a list of keys"
        for k in keys:
            if not isinstance(k, str) or len(k) != 1 or k not in KEYS:
                return "unknown key %r" % (k,)
        ms = item.get("ms")
        if not _whole(ms) or ms < 0 or ms > MAX_T:
            return "hold needs ms, the time the keys stay down"
    elif kind == "zone":
        if not isinstance(item["zone"], str) and not _whole(item["zone"]):
            return "zone must be a zone name or number"
        if not isinstance(item.get("event"), str):
            return "zone needs an event"
    elif kind is None and "until" not in item:
        return "nothing to do (keys, hold, zone, command or until)"
    return None


def main(tick0=0):
    # micropython -c "from panel.replay import main; main()" < scenario.jsonl
    import sys
    import os
    r = Replay(sys.stdout.write, os.urandom, tick0)
    stdin = getattr(sys.stdin, "buffer", sys.stdin)   # bytes: a bad one is a bad line
    while True:
        line = stdin.readline()
        if not line:
            break
        r.feed(line)
    return r
