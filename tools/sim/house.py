"""What the house page shows, built only from the events the system emits
(hub console lines, monitor timeline steps) and the inputs a person gave."""
import threading

from tools.sim import pretty

from drivers import outputs

# One-shot sounds (chirps, key beeps) play over a continuous pattern: the page
# names the continuous one.
CONTINUOUS = {"siren": outputs.SIREN, "buzzer": outputs.BUZZER}

LOG_KEEP = 500
_END = {"dispatch": "dispatched", "cancel": "cancelled", "close": "closed"}


class House:
    def __init__(self, world):
        self.world = world
        self.lock = threading.Lock()
        self.panel = {"state": None, "siren": "off", "buzzer": "off", "keypad": None}
        self.zones = {z.name: ("closed" if z.type in ("contact", "tamper") or z.kind == "wired"
                               else None) for z in world.sensors.zones}
        self.cases = {}
        self.log = []          # [(n, line)]
        self.n = 0

    # ---- fed by the world (reader threads) ----

    def on_event(self, ev):
        line = self.world.story_line(ev) if self.world.clock.zero_mono is not None else None
        with self.lock:
            if ev.source == "hub":
                for k in ("state", "siren", "buzzer", "keypad"):
                    if k in ev.obj and (k not in CONTINUOUS or ev.obj[k] in CONTINUOUS[k]):
                        self.panel[k] = ev.obj[k]
            else:
                self._case(ev.obj)
            if line is not None and line["t"] is not None:
                self.n += 1
                self.log.append((self.n, dict(line, text=pretty.describe(line))))
                del self.log[:-LOG_KEEP]

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
                             "reason": step.get("reason")}
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
                    "cases": sorted((dict(c, steps=list(c["steps"]),
                                          call=dict(c["call"]) if c["call"] else None)
                                     for c in self.cases.values()), key=lambda c: -c["id"]),
                    "log": [line for n, line in self.log if n > since],
                    "next": self.n}
