"""What the console shows, read from the store: the queue, a case with its
timeline and next step, an account. Plain dicts, rendered by the browser.

Times a person waits on are given as deadlines (Unix ms) with the server's
`now_ms`, so the page counts down without trusting the browser's clock."""
import json

from monitor import accounts, timeline
from monitor.queue import open_cases
from monitor.timeline import TIMELINE_SQL
from monitor.web import words

APP_SENDER = "app"          # the name firmware/panel/panel.py gives an SOS from the app

def line(row):
    """A timeline row as the JSON line the service emits, plus its words."""
    out = timeline.line(row)
    if out.get("code"):
        out["words"] = words.describe(out["code"], out.get("name"))
        if out.get("name") == APP_SENDER and out.get("service"):
            # The panel names the app as the sender of an SOS it raised.
            out["words"] = "SOS %s from the owner's app" % out["service"]
    out["text"] = words.step(out)
    return out


def _opening(store, case_id):
    row = store.one("SELECT detail, reason FROM timeline WHERE case_id = ? AND step = 'open' "
                    "ORDER BY id LIMIT 1", case_id)
    detail = json.loads(row["detail"]) if row and row["detail"] else {}
    code = detail.get("code") or (row["reason"] if row else None)
    return code, words.describe(code, detail.get("name")) if code else ""


def wall_of(clock):
    """fn(clock ms) -> wall ms for the service's clock: what a person's clock
    showed then (the same on the real clock; a simulation's faster clock maps
    back), so a countdown on a page counts real seconds."""
    wall = getattr(clock, "wall_ms", None)
    return (lambda ms: None if ms is None else int(wall(ms))) if wall else (lambda ms: ms)


def waits(store, c, wall=None):
    """The deadlines a person is waiting on: the ring timeout, how long held
    (as wall ms, see wall_of)."""
    wall = wall or (lambda ms: ms)
    ring = store.one("SELECT timers.due_ms FROM timers JOIN calls ON calls.id = timers.call_id "
                     "WHERE timers.case_id = ? AND timers.kind = 'ring' "
                     "AND calls.status = 'ringing' ORDER BY timers.due_ms LIMIT 1", c["id"])
    held = None
    if c["waiting"] == "operator":
        row = store.one("SELECT t FROM timeline WHERE case_id = ? AND step = 'hold' "
                        "ORDER BY id DESC LIMIT 1", c["id"])
        held = row["t"] if row else None
    return {"ring_due_ms": wall(ring["due_ms"]) if ring else None,
            "held_since_ms": wall(held) if held is not None else None,
            "overdue": bool(c.get("overdue"))}


SENT = {"police": "police sent", "fire": "fire brigade sent", "medical": "ambulance sent"}


def done(store, case_id, wall=None):
    """What was done on the case, in words, each with when (wall ms): every
    service sent (a duress case may send more than one) and a cancel."""
    wall = wall or (lambda ms: ms)
    out = []
    for r in store.q("SELECT step, service, t FROM timeline WHERE case_id = ? "
                     "AND step IN ('dispatch', 'cancel') ORDER BY id", case_id):
        what = SENT.get(r["service"] or "police", "%s sent" % r["service"]) \
            if r["step"] == "dispatch" else "cancelled"
        out.append({"what": what, "t": wall(r["t"])})
    return out


def news(store, c, wall=None):
    """The latest alarm that joined the case since it was last acknowledged, or None."""
    if c.get("update_ms") is None:
        return None
    wall = wall or (lambda ms: ms)
    row = store.one(TIMELINE_SQL + "WHERE case_id = ? AND step IN ('update', 'signal') "
                    "ORDER BY timeline.id DESC LIMIT 1", c["id"])
    if row is None:
        return None
    joined = line(row)
    return {"words": joined.get("words") or "an alarm", "code": joined.get("code"),
            "service": joined.get("service"), "t": wall(row["t"])}


def queue(store, now_ms, wall=None):
    """The engine's queue (monitor.queue: overdue first, then what an alarm
    joined, then by plan; every case not closed by an operator), with what a
    person reads and waits on, and what was done."""
    out = []
    for c in open_cases(store):
        code, what = _opening(store, c["id"])
        out.append(dict({"id": c["id"], "hub": c["hub"], "plan": c["plan"],
                         "service": c["service"], "status": c["status"],
                         "address": c["address"], "code": code, "what": what,
                         "waiting": c["waiting"], "opened_ms": c["opened_ms"],
                         "needs_ack": c["needs_ack"], "news": news(store, c, wall),
                         "done": done(store, c["id"], wall),
                         "next": next_step(store, c)}, **waits(store, c, wall)))
    return {"now_ms": now_ms, "cases": out}


def case(store, case_id, now_ms, wall=None):
    row = store.one("SELECT * FROM cases WHERE id = ?", case_id)
    if row is None:
        return None
    c = dict(row)
    acct = accounts.get(store, c["hub"])
    call = store.one("SELECT id, contact, status, password_ok FROM calls WHERE case_id = ? "
                     "AND status IN ('ringing', 'answered') ORDER BY id DESC LIMIT 1", case_id)
    wall = wall or (lambda ms: ms)
    # Each step's time as a person's clock showed it (the page prints it).
    timeline = [dict(line(r), t=wall(r["t"])) for r in store.q(
        TIMELINE_SQL + "WHERE case_id = ? ORDER BY timeline.id", case_id)]
    # The one on the phone, else the one Call contact would ring (Desk.operator_call: the next).
    position = call["contact"] if call else (c["contact"] or 0) + 1
    contact = next((p for p in acct["contacts"] if p["position"] == position), None)
    if c["plan"] == "duress":
        contact = None          # nobody is called about a hub under duress
    code, what = _opening(store, case_id)
    fields = ("id", "hub", "plan", "service", "status", "waiting", "contact", "keypad_cancel",
              "trouble", "opened_ms", "ended_ms", "end_reason", "closed_ms")
    return {"now_ms": now_ms,
            "case": dict({k: c[k] for k in fields}, code=code, what=what,
                         status_words=words.status(c),
                         needs_ack=c["attention_ms"] is not None, news=news(store, c, wall),
                         done=done(store, case_id, wall), **waits(store, c, wall)),
            "account": acct, "call": dict(call) if call else None,
            "contact_to_call": contact, "next": next_step(store, c), "timeline": timeline}


TROUBLE_ADVICE = {
    "offline": "Hub offline: check on the premises; the case closes when the hub is back.",
    "test_overdue": "Periodic test report overdue: check the hub; the next report closes the case.",
    "seq_reset": "The hub's sequence numbers started again (its data wiped or damaged): its "
                 "signals are handled as new. Check the hub, then close the case.",
}


def next_step(store, c):
    if c["plan"] == "duress" and c["status"] == "dispatched" and not c.get("closed_ms"):
        return ("Police sent. Do not call the premises or the contacts; close the case "
                "when the responders are done.")
    if c["status"] in ("dispatched", "cancelled") and not c.get("closed_ms"):
        if c["status"] == "dispatched":
            return ("Sent, not closed: alarms for the same service join this case for the "
                    "responders. Close the case when they are done.")
        return "Cancelled, not closed: close the case once nothing more is needed."
    if c["status"] != "open":
        return "%s (%s)." % (words.status(c), words.reason(c.get("end_reason")))
    if c["plan"] == "trouble":
        return TROUBLE_ADVICE.get(c["trouble"], "Hub trouble: check the hub, then close the case.")
    if c["plan"] == "duress":
        return "Police requested at once. Do not call the premises or the contacts."
    who = store.one("SELECT name, phone FROM contacts WHERE hub = ? AND position = ?",
                    c["hub"], c["contact"] or 1)
    whom = "contact %s (%s, %s)" % (c["contact"] or 1, who["name"], who["phone"]) if who \
        else "contact %s" % (c["contact"] or 1)
    if c["waiting"] == "answer":
        return "Calling %s: record Answered or No answer." % whom
    if c["waiting"] == "request":
        return ("%s answered: check the verbal password, then record what they ask for."
                % (whom[0].upper() + whom[1:]))
    if c["waiting"] == "operator":
        return "Held by the plan: call the next contact, or dispatch if they ask for it."
    return "Call %s." % whom
