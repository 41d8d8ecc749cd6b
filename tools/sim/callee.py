"""The automatic callee: the simulation's stand-in for the people the
monitoring service calls. It plugs into the service as a call provider
(monitor/calls.py) and answers each call as a script says.

Scripts live in the case store (a table of the simulation's own), so any
worker process can place the call and a script survives a restart. A script
applies to the next call to that contact; several scripts for one contact
apply to successive calls. With no script the phone just rings out."""
import json

from monitor import accounts

SCHEMA = """
CREATE TABLE IF NOT EXISTS callee_scripts (
  id INTEGER PRIMARY KEY,
  hub TEXT NOT NULL,
  contact INTEGER NOT NULL,
  answer INTEGER NOT NULL,
  password_ok INTEGER,
  request TEXT,
  delay_ms INTEGER
)"""
FIELDS = {"contact", "answer", "password", "request", "hub", "delay_s"}


def prepare(store):
    """Create the script table (the service's schema knows nothing of it)."""
    store.ensure(SCHEMA)


class AutomaticCallee:
    """answer_ms: how long a scripted contact takes to pick up (clock ms)."""
    name = "auto"

    def __init__(self, answer_ms=2_000):
        self.answer_ms = answer_ms

    def placed(self, desk, case, position, call_id, t):
        script = desk.store.one("SELECT * FROM callee_scripts WHERE hub = ? AND contact = ? "
                                "ORDER BY id LIMIT 1", case["hub"], position)
        if script is None:
            return          # nobody picks up: the ring timer decides
        desk.store.db.execute("DELETE FROM callee_scripts WHERE id = ?", (script["id"],))
        if not script["answer"]:
            return
        delay = script["delay_ms"] if script["delay_ms"] is not None else self.answer_ms
        # Answer before the ring timer would declare the call unanswered.
        desk.timer(t + max(0, min(delay, desk.ring_ms - 1)), "provider", case=case,
                   call_id=call_id,
                   payload={"password_ok": script["password_ok"], "request": script["request"]})

    def fire(self, desk, timer, payload):
        call, _case = desk.answered(timer["call_id"])
        if payload["password_ok"] is not None:
            desk.password(call["id"], bool(payload["password_ok"]))
        desk.request(call["id"], payload["request"])


def set_script(store, contact, answer=False, password=None, request=None, hub=None,
               delay_s=None):
    """Script the next call to `contact` (1-based) of `hub` (every account when None).

    password: what the callee will say (checked now, only right/wrong is kept);
    request: "dispatch" | "cancel" | None. Returns the number of scripts stored.
    """
    if request not in ("dispatch", "cancel", None):
        raise ValueError("request must be dispatch, cancel or null, not %r" % (request,))
    if not isinstance(contact, int) or isinstance(contact, bool) or contact < 1:
        raise ValueError("contact is a position from 1, not %r" % (contact,))
    prepare(store)
    hubs = [hub] if hub else accounts.all_hubs(store)
    verdicts = {h: (None if password is None else accounts.check_password(store, h, password))
                for h in hubs}
    with store.tx() as db:
        for h in hubs:
            ok = verdicts[h]
            db.execute("INSERT INTO callee_scripts (hub, contact, answer, password_ok, request, "
                       "delay_ms) VALUES (?,?,?,?,?,?)",
                       (h, contact, int(bool(answer)), None if ok is None else int(ok), request,
                        None if delay_s is None else int(delay_s * 1000)))
    return len(hubs)


def set_script_json(store, text_or_obj):
    """The story's form: {"contact": 1, "answer": true, "password": "...",
    "request": "dispatch"|"cancel"|null, "hub": optional, "delay_s": optional}."""
    obj = json.loads(text_or_obj) if isinstance(text_or_obj, str) else dict(text_or_obj)
    unknown = set(obj) - FIELDS
    if unknown:
        raise ValueError("unknown script fields: %s" % ", ".join(sorted(unknown)))
    return set_script(store, obj.get("contact"), bool(obj.get("answer")), obj.get("password"),
                      obj.get("request"), obj.get("hub"), obj.get("delay_s"))


def clear_scripts(store, hub=None):
    prepare(store)
    with store.tx() as db:
        if hub:
            db.execute("DELETE FROM callee_scripts WHERE hub = ?", (hub,))
        else:
            db.execute("DELETE FROM callee_scripts")
