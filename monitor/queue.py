"""The operator's queue: the cases that need a person, most urgent first.

That is every open case, and every duress case still standing (police were
sent at once, but only an operator closes it, and until then the hub's alarms
join it and nobody is called). A case held for a person past its hold time
comes first, marked overdue (it has waited longest for a human); then by plan
(plans.PRIORITY: duress, panic and SOS, burglar, trouble); then oldest first."""
from monitor import plans

FIELDS = ("id", "hub", "plan", "service", "status", "waiting", "contact", "opened_ms",
          "hold_until_ms", "trouble")


def open_cases(store):
    rows = store.q("SELECT cases.*, accounts.address FROM cases JOIN accounts USING (hub) "
                   "WHERE cases.status = 'open' OR (cases.plan = 'duress' AND "
                   "cases.status = 'dispatched' AND cases.closed_ms IS NULL)")
    out = [dict({k: r[k] for k in FIELDS}, address=r["address"], overdue=bool(r["overdue"]),
                standing=r["status"] == "dispatched",
                plan_words=plans.PLAN_WORDS.get(r["plan"], r["plan"])) for r in rows]
    out.sort(key=lambda c: (not c["overdue"], plans.PRIORITY.get(c["plan"], 9), c["id"]))
    return out
