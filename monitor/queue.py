"""The operator's queue: open cases, most urgent first.

A case held for a person past its hold time comes first, marked overdue (it
has waited longest for a human); then by plan (plans.PRIORITY: duress, panic
and SOS, burglar, trouble); then oldest first."""
from monitor import plans

FIELDS = ("id", "hub", "plan", "service", "waiting", "contact", "opened_ms", "hold_until_ms",
          "overdue", "trouble")


def open_cases(store):
    rows = store.q("SELECT cases.*, accounts.address FROM cases JOIN accounts USING (hub) "
                   "WHERE cases.status = 'open'")
    out = [dict({k: r[k] for k in FIELDS}, address=r["address"], overdue=bool(r["overdue"]),
                plan_words=plans.PLAN_WORDS.get(r["plan"], r["plan"])) for r in rows]
    out.sort(key=lambda c: (not c["overdue"], plans.PRIORITY.get(c["plan"], 9), c["id"]))
    return out
