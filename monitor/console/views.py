"""What the console shows, read from the store: the queue, a case with its
timeline and next step, an account. Plain dicts, rendered by the browser."""
import json

from monitor import accounts

PLAN_NAMES = {"burglar": "Burglar", "panic": "Panic", "duress": "Duress", "sos": "SOS",
              "trouble": "Trouble"}


def line(row):
    """A timeline row as the JSON line the service emits."""
    out = {"t": row["t"], "source": "monitor", "case": row["case_id"], "plan": row["plan"],
           "hub": row["hub"], "step": row["step"], "id": row["id"]}
    for k in ("contact", "service", "reason"):
        if row[k] is not None:
            out[k] = row[k]
    if row["detail"]:
        out.update(json.loads(row["detail"]))
    return out


TIMELINE_SQL = ("SELECT timeline.*, cases.plan, cases.hub FROM timeline "
                "JOIN cases ON cases.id = timeline.case_id ")


def queue(store):
    rows = store.q("SELECT cases.*, accounts.address FROM cases JOIN accounts USING (hub) "
                   "WHERE status = 'open' ORDER BY CASE plan WHEN 'duress' THEN 0 "
                   "WHEN 'panic' THEN 1 WHEN 'sos' THEN 1 WHEN 'burglar' THEN 2 ELSE 3 END, id")
    return [{"id": r["id"], "hub": r["hub"], "plan": r["plan"], "service": r["service"],
             "address": r["address"], "waiting": r["waiting"], "opened_ms": r["opened_ms"],
             "next": next_step(store, dict(r))} for r in rows]


def case(store, case_id):
    row = store.one("SELECT * FROM cases WHERE id = ?", case_id)
    if row is None:
        return None
    c = dict(row)
    acct = accounts.get(store, c["hub"])
    call = store.one("SELECT id, contact, status, password_ok FROM calls WHERE case_id = ? "
                     "AND status IN ('ringing', 'answered') ORDER BY id DESC LIMIT 1", case_id)
    timeline = [line(r) for r in store.q(TIMELINE_SQL + "WHERE case_id = ? ORDER BY timeline.id",
                                         case_id)]
    position = (call["contact"] if call else (c["contact"] or 0) + (0 if c["contact"] else 1))
    contact = next((p for p in acct["contacts"] if p["position"] == position), None)
    return {"case": {k: c[k] for k in ("id", "hub", "plan", "service", "status", "waiting",
                                       "contact", "keypad_cancel", "trouble", "opened_ms",
                                       "ended_ms", "end_reason")},
            "account": acct, "call": dict(call) if call else None,
            "contact_to_call": contact, "next": next_step(store, c), "timeline": timeline}


TROUBLE_ADVICE = {
    "offline": "Hub offline: check on the premises; the case closes when the hub is back.",
    "test_overdue": "Periodic test report overdue: check the hub; the next report closes the case.",
    "seq_reset": "The hub's sequence numbers started again (its data wiped or damaged): its "
                 "signals are handled as new. Check the hub, then close the case.",
}


def next_step(store, c):
    if c["status"] != "open":
        return "Ended: %s (%s)." % (c["status"], c["end_reason"])
    if c["plan"] == "trouble":
        return TROUBLE_ADVICE.get(c["trouble"], "Hub trouble: check the hub, then close the case.")
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
