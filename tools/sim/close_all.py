"""The house page's "Close all cases": between plays under `make run`, the
demo's operator closes what the last play left open, so the next play starts
a case of its own instead of joining the last one (a standing duress case
takes in every later alarm of its hub; a dispatched one, those of its
follow-up window).

It is an operator's doing, with a name on every case's timeline, through the
service's own endings: an open alarm is cancelled by the operator, an open
trouble closed, and a dispatched case (a standing duress case too) closed as
the console's Close does (OperatorActions.operator_close), and so is a
cancelled one, which stays on the console's open list until an operator closes it."""
from monitor import plans
from monitor.cases import Refused

# Whose name the timeline gives: no person at a console, the page's own button.
OPERATOR = "house page's demo operator"
REASON = "close_all"          # the step's reason, as the console's verbs are named
ENDING = "closed_from_the_house_page"


def to_close(store, hub):
    """The hub's cases an operator still has to close, oldest first."""
    return [dict(r) for r in store.q(
        "SELECT * FROM cases WHERE hub = ? AND (status = 'open' OR (status IN "
        "('dispatched', 'cancelled') AND closed_ms IS NULL)) ORDER BY id", hub)]


def close_all_fn(hub, operator=OPERATOR):
    """fn(desk): close every case of the hub still to close; their ids."""
    def run(desk):
        desk.store.lock_hubs([hub])
        # As monitor.case_record.acting does: every step written, and what the
        # plan does because of it, records who did it.
        before, desk.operator = desk.operator, operator
        try:
            done = []
            for case in to_close(desk.store, hub):
                desk.step(case, "operator", reason=REASON)
                if case["status"] == "open":
                    _end_open(desk, case)
                    case = desk.case(case["id"])
                if case["status"] in ("dispatched", "cancelled") and case["closed_ms"] is None:
                    desk.operator_close(case["id"])
                done.append(case["id"])
            return done
        finally:
            desk.operator = before
    return run


def _end_open(desk, case):
    if case["plan"] == "trouble":
        desk.close_trouble(case, ENDING)
    elif case["plan"] in plans.CANCELLABLE:
        desk.cancel(case, ENDING)
    else:
        # A duress case is dispatched the moment it opens, so never open here.
        raise Refused("a %s case cannot be closed from the house page" % case["plan"])
