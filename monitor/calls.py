"""How calls reach a person: one interface, two providers.

A provider is told when the plan places a call (inside the case's transaction)
and reports the outcome back through the Desk: answered(call), password(call,
right?), request(call, "dispatch"|"cancel"|None), or no_answer(call) — which
the ring timer also reports when nobody picks up.

- AutomaticCallee: simulation and tests. Each contact follows a script set at
  run time; with no script the phone just rings out.
- OperatorConsole: a person dials and records the outcome in the web console.
"""
import json

from monitor import accounts


class OperatorConsole:
    name = "console"

    def placed(self, desk, case, position, call_id, t):
        pass     # the operator sees the ringing call in the console


class AutomaticCallee:
    """Scripts live in the case store, so they survive a restart and any worker
    process can place the call. A script applies to the next call to that
    contact; several scripts for one contact apply to successive calls."""
    name = "auto"

    def placed(self, desk, case, position, call_id, t):
        script = desk.store.one("SELECT * FROM callee_scripts WHERE hub = ? AND contact = ? "
                                "ORDER BY id LIMIT 1", case["hub"], position)
        if script is None:
            return          # nobody picks up: the ring timer decides
        desk.store.db.execute("DELETE FROM callee_scripts WHERE id = ?", (script["id"],))
        if not script["answer"]:
            return
        delay = script["delay_ms"] if script["delay_ms"] is not None else desk.answer_ms
        # Answer before the ring timer would declare the call unanswered.
        desk.timer(t + max(0, min(delay, desk.ring_ms - 1)), "answer", case=case,
                   call_id=call_id,
                   payload={"password_ok": script["password_ok"], "request": script["request"]})


def set_script(store, contact, answer=False, password=None, request=None, hub=None,
               delay_s=None):
    """Script the next call to `contact` (1-based) of `hub` (every account when None).

    password: what the callee will say (checked now, only right/wrong is kept);
    request: "dispatch" | "cancel" | None. Returns the number of scripts stored.
    """
    if request not in ("dispatch", "cancel", None):
        raise ValueError("request must be dispatch, cancel or null")
    if not isinstance(contact, int) or contact < 1:
        raise ValueError("contact is a position from 1")
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


def set_script_json(store, text_or_obj, scale=1.0):
    """The story runner's form: {"contact": 1, "answer": true, "password": "...",
    "request": "dispatch"|"cancel"|null, "hub": optional, "delay_s": optional}."""
    obj = json.loads(text_or_obj) if isinstance(text_or_obj, str) else dict(text_or_obj)
    unknown = set(obj) - {"contact", "answer", "password", "request", "hub", "delay_s"}
    if unknown:
        raise ValueError("unknown script fields: %s" % ", ".join(sorted(unknown)))
    delay = obj.get("delay_s")
    return set_script(store, obj.get("contact"), bool(obj.get("answer")), obj.get("password"),
                      obj.get("request"), obj.get("hub"),
                      None if delay is None else delay * scale)


def clear_scripts(store, hub=None):
    with store.tx() as db:
        if hub:
            db.execute("DELETE FROM callee_scripts WHERE hub = ?", (hub,))
        else:
            db.execute("DELETE FROM callee_scripts")
