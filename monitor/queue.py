"""The operator's queue: the cases that need a person, most urgent first.

That is every case an operator has not closed, whatever was done
(response-plans.md, "Nothing joins unseen"): open ones, and dispatched or
cancelled ones until an operator closes them (a standing duress case too:
police were sent at once, and until it is closed the hub's alarms join it and
nobody is called). A case held for a person past its hold time, or left
unacknowledged past the set time, comes first, marked overdue; then a case an
alarm joined since it was last acknowledged, latest first; then by plan
(plans.PRIORITY: duress, panic and SOS, burglar, trouble); then oldest first."""
from monitor import plans

FIELDS = ("id", "hub", "plan", "service", "status", "waiting", "contact", "opened_ms",
          "hold_until_ms", "trouble", "attention_ms", "update_ms", "end_reason", "ended_ms")


def open_cases(store):
    rows = store.q("SELECT cases.*, accounts.address FROM cases JOIN accounts USING (hub) "
                   "WHERE cases.status = 'open' OR (cases.status IN ('dispatched', "
                   "'cancelled') AND cases.closed_ms IS NULL)")
    out = [dict({k: r[k] for k in FIELDS}, address=r["address"], overdue=bool(r["overdue"]),
                standing=r["status"] != "open", needs_ack=r["attention_ms"] is not None,
                plan_words=plans.PLAN_WORDS.get(r["plan"], r["plan"])) for r in rows]
    # An alarm that joined a case puts it at the top (after the overdue), the
    # latest first: it is news nobody has seen yet.
    out.sort(key=lambda c: (not c["overdue"], c["update_ms"] is None, -(c["update_ms"] or 0),
                            plans.PRIORITY.get(c["plan"], 9), c["id"]))
    return out
