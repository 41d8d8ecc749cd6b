"""The automatic callee: the simulation's stand-in for the people the
monitoring service calls. It plugs into the service as a call provider
(monitor/calls.py) and answers each call as a script says.

Scripts live in the case store (a table of the simulation's own, kept through
the service's monitor/plugin_store.py), so any worker process can place the
call and a script survives a restart. A script
applies to the next call to that contact; several scripts for one contact
apply to successive calls. With no script the phone just rings out."""
import json

from monitor import accounts
from monitor.plugin_store import ProviderTable

SCRIPTS = ProviderTable("callee_scripts", ["hub TEXT NOT NULL", "contact INTEGER NOT NULL",
                                           "answer INTEGER NOT NULL", "password_ok INTEGER",
                                           "request TEXT", "delay_ms INTEGER"])
FIELDS = {"contact", "answer", "password", "request", "hub", "delay_s"}


def prepare(store):
    """Create the script table (the service's schema knows nothing of it)."""
    SCRIPTS.prepare(store)


class AutomaticCallee:
    """answer_ms: how long a scripted contact takes to pick up (clock ms)."""
    name = "auto"

    def __init__(self, answer_ms=2_000):
        self.answer_ms = answer_ms

    def placed(self, desk, case, position, call_id, t):
        # Taken in the transaction that places the call: used once, by this call.
        script = SCRIPTS.take(desk.store, hub=case["hub"], contact=position)
        if script is None:
            return          # nobody picks up: the ring timer decides
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
    SCRIPTS.add(store, [{"hub": h, "contact": contact, "answer": int(bool(answer)),
                         "password_ok": None if verdicts[h] is None else int(verdicts[h]),
                         "request": request,
                         "delay_ms": None if delay_s is None else int(delay_s * 1000)}
                        for h in hubs])
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
    if hub:
        SCRIPTS.clear(store, hub=hub)
    else:
        SCRIPTS.clear(store)
