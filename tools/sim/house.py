"""What the house page shows, built only from the events the system emits
(hub console lines, monitor timeline steps) and the inputs a person gave."""
import queue
import threading
import time

from monitor.web import words
from tools.sim import happened, pretty
from tools.sim.clock import HubTime

from drivers import outputs

# One-shot sounds (chirps, key beeps) play over a continuous pattern: the page
# names the continuous one.
CONTINUOUS = {"siren": outputs.SIREN, "buzzer": outputs.BUZZER}

LOG_KEEP = 500
_END = {"dispatch": "dispatched", "cancel": "cancelled", "close": "closed"}
# A person at the page must act within these (type the code in the entry delay,
# abort a burglary in its abort window): hub time runs at real speed through
# them, at any speed (docs/simulation.md, "Time a person acts within").
ACT_WITHIN = ("pending", "triggered")
# After the person acted (or the time ran out): hub time at real speed this much
# longer, the pace of a person still typing (tools/sim/world.py PERSON_MS).
AFTER_MS = 6000
BURGLARY_FROM = ("pending", "armed_away", "armed_home")


class House:
    def __init__(self, world):
        self.world = world
        self.lock = threading.Lock()
        self.panel = {"state": None, "siren": "off", "buzzer": "off", "keypad": None,
                      "keypad_n": 0}
        cfg = world.config
        self.delays = {"away": cfg.get("exit_delay", 60) * 1000,
                       "home": (cfg.get("exit_delay_home") if cfg.get("exit_delay_home")
                                is not None else cfg.get("exit_delay", 60)) * 1000,
                       "entry": cfg.get("entry_delay", 30) * 1000,
                       "abort": cfg.get("abort_window", 30) * 1000}
        self.users = {u.get("number"): u.get("name") for u in cfg.get("users", [])}
        self.hub_time = HubTime(world.speed)
        world.on_person = self.hub_time.person
        self.arm_mode = "away"     # the exit delay's length: the last arming the page asked for
        self.countdown = None      # {"what": exit|entry|abort, "deadline": hub ticks}
        self.lockout_end = None    # hub ticks the keypad's lockout ends at, while it runs
        self.last_state = None
        self._person_windows = queue.Queue()
        threading.Thread(target=self._ask_person_windows, name="house-person",
                         daemon=True).start()
        self.zones = {z.name: ("closed" if z.type in ("contact", "tamper") or z.kind == "wired"
                               else None) for z in world.sensors.zones}
        self.cases = {}
        self.log = []          # [(n, line)]
        self.n = 0

    # ---- fed by the world (reader threads) ----

    def on_event(self, ev):
        line = self.world.story_line(ev) if self.world.clock.zero_mono is not None else None
        person = None
        with self.lock:
            if ev.source == "hub":
                if "ticks" in ev.obj:
                    self.hub_time.sample(ev.obj["ticks"], ev.received)
                for k in ("state", "siren", "buzzer", "keypad"):
                    if k in ev.obj and (k not in CONTINUOUS or ev.obj[k] in CONTINUOUS[k]):
                        self.panel[k] = ev.obj[k]
                if "keypad" in ev.obj:
                    self.panel["keypad_n"] += 1
                    self._lockout(ev.obj)
                person = self._count_down(ev.obj)
            else:
                self._case(ev.obj)
            if line is not None and line["t"] is not None:
                text = happened.line_text(line, self.users)
                if text is not None:
                    self._log(ev.received, text, line)
        if person is not None:
            self._person_windows.put(person)

    def _ask_person_windows(self):
        # Off the reader threads (the world's input lock may be held by typing),
        # one after another in the order the hub's lines asked for them.
        while True:
            window = self._person_windows.get()
            try:
                self.world.person(*window)
            except OSError:         # the hub is gone (stopping): nothing left to slow
                return

    def _count_down(self, obj):
        """Follow the deadlines a person acts within: the countdown to show, and
        the real-speed window to ask for ((ms,) or (ms, shrink)), or None."""
        ticks, state = obj.get("ticks"), obj.get("state")
        if state is None or ticks is None:
            code = str((obj.get("signal") or {}).get("code", ""))
            if self.countdown and self.countdown["what"] == "abort" and (
                    obj.get("log") == "alarm_aborted" or code.startswith("E1")):
                self.countdown = None       # aborted, or reported: nothing left to act within
                return (AFTER_MS, True)
            return None
        last, self.last_state = self.last_state, state
        self.countdown = None
        if state == "arming":
            self.countdown = {"what": "exit", "deadline": ticks + self.delays[self.arm_mode]}
        elif state == "pending":
            self.countdown = {"what": "entry", "deadline": ticks + self.delays["entry"]}
            return (self.delays["entry"],)
        elif state == "triggered" and self.delays["abort"] and last in BURGLARY_FROM:
            # A burglary (a panic is reported at once: its signal ends this early).
            self.countdown = {"what": "abort", "deadline": ticks + self.delays["abort"]}
            return (self.delays["abort"],)
        if last in ACT_WITHIN and state not in ACT_WITHIN:
            return (AFTER_MS, True)
        return None

    def _lockout(self, obj):
        # The panel says how long it stays locked each time it says "locked"
        # (a key pressed while locked asks again), and "ready" when it is over.
        if obj["keypad"] == "locked" and "left_ms" in obj and "ticks" in obj:
            self.lockout_end = obj["ticks"] + obj["left_ms"]
        elif obj["keypad"] == "ready":
            self.lockout_end = None

    def _log(self, received, text, line=None):
        wall = time.time() - (time.monotonic() - received)
        self.n += 1
        entry = {"clock": words.clock_text(wall), "text": text,
                 "source": line["source"] if line else "you",
                 "t": line["t"] if line else None}
        self.log.append((self.n, entry))
        del self.log[:-LOG_KEEP]

    def note(self, text):
        """Something the person at the page did (front door opened, keys typed)."""
        with self.lock:
            self._log(time.monotonic(), text)

    def _case(self, step):
        cid = step.get("case")
        case = self.cases.setdefault(cid, {"id": cid, "plan": step.get("plan"),
                                           "service": None, "status": "open", "call": None,
                                           "steps": [], "ended": None})
        kind = step.get("step")
        if step.get("service"):
            case["service"] = step["service"]
        case["steps"].append(pretty.step_text(step))
        if kind == "call":
            case["call"] = {"id": step.get("call"), "contact": step.get("contact"),
                            "name": step.get("name"), "phone": step.get("phone"),
                            "status": "ringing"}
        elif kind == "answered" and case["call"]:
            case["call"]["status"] = "answered"
        elif kind == "password" and case["call"]:
            case["call"]["password"] = step.get("result")
        elif kind in ("no_answer", "request"):
            case["call"] = None
        elif kind == "hold":
            case["status"] = "held"
        if kind in _END:
            case["status"] = _END[kind]
            case["ended"] = {"step": kind, "service": step.get("service"),
                             "reason": step.get("reason"),
                             "because": words.reason(step.get("reason"))}
            case["call"] = None

    def zone_set(self, name, event):
        with self.lock:
            if event in ("open", "close", "tamper", "tamper_restore"):
                self.zones[name] = "open" if event in ("open", "tamper") else "closed"

    # ---- read by the page ----

    def snapshot(self, since=0):
        w = self.world
        with self.lock:
            zones = [{"number": z.number, "name": z.name, "type": z.type, "kind": z.kind,
                      "events": z.events(), "state": self.zones.get(z.name)}
                     for z in w.sensors.zones]
            return {"speed": w.speed, "hub": w.config["hub_id"], "panel": dict(self.panel),
                    "trouble": w.trouble, "online": w.app.availability if w.app else None,
                    "outputs": w.pins(), "zones": zones,
                    "story_s": round(w.clock.now() / 1000.0, 1),
                    "countdown": self._countdown_now(),
                    "lockout_left_s": self._lockout_left_s(),
                    "cases": sorted((dict(c, steps=list(c["steps"]),
                                          call=dict(c["call"]) if c["call"] else None)
                                     for c in self.cases.values()), key=lambda c: -c["id"]),
                    "log": [line for n, line in self.log if n > since],
                    "next": self.n}

    def _lockout_left_s(self):
        if self.lockout_end is None:
            return None
        left = self.hub_time.left_ms(self.lockout_end)
        return (left + 999) // 1000 if left else None

    def _countdown_now(self):
        c = self.countdown
        if c is None:
            return None
        left = self.hub_time.left_ms(c["deadline"])
        return {"what": c["what"], "left_s": (left + 999) // 1000 if left is not None else None}
