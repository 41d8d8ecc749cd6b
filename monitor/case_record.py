"""A case and its timeline as the plans write them: the steps (each queued in
the outbox in the same transaction), the case's fields, how a case opens and
how it ends (dispatch, cancel, close). The base of the Desk (cases.py); its
SQL is case_store's.

Every method runs inside the caller's transaction (Store.tx). Each timeline
step is also queued in the outbox table; the engine emits it from the store
once the transaction has committed (docs/monitoring.md). `out` keeps the
steps this transaction wrote, for the caller's own use."""
import functools
import json

from monitor import case_store, plans
from monitor.clock import SYSTEM


class Refused(Exception):
    """An operator action the plan does not allow (e.g. cancelling a duress case)."""


def acting(fn):
    """An action a person may take: with operator="name", every step it writes
    (and what the plan does because of it) records who did it."""
    @functools.wraps(fn)
    def act(self, *args, operator=None, **kw):
        if operator is None:
            return fn(self, *args, **kw)
        before, self.operator = self.operator, operator
        try:
            return fn(self, *args, **kw)
        finally:
            self.operator = before
    return act


class CaseRecord:
    """clock: where time comes from (monitor.clock; a fake one in tests).
    provider: who places the calls (calls.OperatorConsole, or one that plugs in).
    ring_ms: how long a call rings before it counts as unanswered.
    hold_ms: how long a case held for a person waits before it is overdue.
    follow_up_ms: alarms this soon after a dispatch join the dispatched case.
    test_grace_ms: how late a periodic test report may be.
    ack_ms: how long a new case, or an alarm that joined one, waits for an
    operator's acknowledgement before it is overdue.
    """

    def __init__(self, store, provider, clock=SYSTEM, ring_ms=30_000, test_grace_ms=600_000,
                 hold_ms=300_000, follow_up_ms=1_800_000, ack_ms=120_000):
        self.store = store
        self.provider = provider
        self.clock = clock
        self.ring_ms = ring_ms
        self.hold_ms = hold_ms
        self.follow_up_ms = follow_up_ms
        self.test_grace_ms = test_grace_ms
        self.ack_ms = ack_ms
        self.out = []
        self.operator = None        # who is acting now (see acting)
        self.via = None             # the path of the signal being acted on, if not MQTT

    def now(self):
        return self.clock.now_ms()

    # ---- timeline ----

    def step(self, case, step, contact=None, service=None, reason=None, **detail):
        t = self.now()
        if self.operator is not None:
            detail.setdefault("operator", self.operator)
        if self.via is not None and detail.get("code") is not None:
            # The step that tells of the signal itself says it came another way.
            detail.setdefault("via", self.via)
        detail = {k: v for k, v in detail.items() if v is not None}
        step_id = case_store.add_step(self.store, case["id"], t, step, contact, service, reason,
                                      json.dumps(detail, sort_keys=True) if detail else None)
        line = {"t": t, "source": "monitor", "case": case["id"], "plan": case["plan"],
                "hub": case["hub"], "step": step}
        for k, v in (("contact", contact), ("service", service), ("reason", reason)):
            if v is not None:
                line[k] = v
        line.update(detail)
        line["id"] = step_id        # or, piped, a function of it (see settle)
        self.out.append(line)

    def settle(self):
        """After a piped transaction (Store.tx(piped=True)) is in: the steps'
        ids, read from the answers that came with it."""
        for line in self.out:
            if callable(line["id"]):
                line["id"] = line["id"]()

    # ---- the case ----

    def case(self, case_id):
        """The case, read while its hub is held (Store.lock_hubs): what is
        decided from it cannot be decided at once by another worker."""
        row = case_store.case(self.store, case_id)
        if row is not None and self.store.lock_hubs([row["hub"]]):
            row = case_store.case(self.store, case_id)     # now current
        return dict(row) if row else None

    def _set(self, case, **fields):
        if fields:
            case_store.set_case(self.store, case["id"], fields)
            case.update(fields)

    def open_case(self, hub, plan, service=None, reason=None, trouble=None, **detail):
        self.store.lock_hubs([hub])     # held already by what opens it: no statement
        case = dict(case_store.new_case(self.store, hub, plan, service, trouble, self.now()))
        self.step(case, "open", service=service, reason=reason, **detail)
        self.timer(case["attention_ms"] + self.ack_ms, "ack_due", case=case)
        return case

    def needs_attention(self, case):
        """An alarm joined the case: it waits for an operator's acknowledgement
        from now (response-plans.md, "Nothing joins unseen"), at the top of the list."""
        t = self.now()
        self._set(case, attention_ms=t, update_ms=t)
        self.timer(t + self.ack_ms, "ack_due", case=case)

    def unacknowledged_too_long(self, case):
        """1 when the case has waited for an acknowledgement past ack_ms (it
        stays overdue whatever else is done to it), else 0."""
        since = case.get("attention_ms")
        return int(since is not None and since + self.ack_ms <= self.now())

    # live: the hub's live cases as read once for a signal (case_store.live_cases),
    # while nothing of them has changed since; None: read what is asked.

    def open_cases(self, hub, plan=None, live=None):
        if live is None:
            return case_store.open_cases(self.store, hub, plan)
        return [_case(c) for c in live if c["status"] == "open" and plan in (None, c["plan"])]

    def duress_case(self, hub, live=None):
        """The hub's duress case until an operator closes it, else None. Police
        were sent the moment it opened; while it stands, the hub is under duress."""
        if live is None:
            return case_store.standing_duress(self.store, hub)
        for c in reversed(live):
            if c["plan"] == "duress" and c["closed_ms"] is None:
                return _case(c)
        return None

    def dispatched_case(self, hub, service, live=None):
        """The hub's case that sent `service` within the follow-up window, not yet closed."""
        since = self.now() - self.follow_up_ms
        if live is None:
            return case_store.dispatched_since(self.store, hub, service, since)
        for c in reversed(live):
            if c["status"] == "dispatched" and c["sent_service"] == service \
                    and c["sent_ms"] >= since:
                return _case(c)
        return None

    # ---- endings ----

    def _end(self, case, status, reason):
        t = self.now()
        case_store.end_case(self.store, case["id"])
        self._set(case, status=status, waiting=None, ended_ms=t, end_reason=reason)

    def dispatch(self, case, reason, service=None):
        if case["status"] != "open":
            raise Refused("case %s is %s" % (case["id"], case["status"]))
        if case["plan"] == "trouble":
            raise Refused("a trouble case has no service to dispatch")
        service = service or case["service"] or "police"
        # At most once, whatever was read: the primary key refuses a second row
        # (the item fails and rolls back whole), and the hub is held besides.
        case_store.add_dispatch(self.store, case["id"], service, reason, self.now())
        self._end(case, "dispatched", reason)
        self.step(case, "dispatch", service=service, reason=reason)

    def cancel(self, case, reason):
        if case["status"] != "open":
            raise Refused("case %s is %s" % (case["id"], case["status"]))
        if case["plan"] not in plans.CANCELLABLE:
            raise Refused("a %s case cannot be cancelled" % case["plan"])
        self._end(case, "cancelled", reason)
        self.step(case, "cancel", reason=reason)

    def close_trouble(self, case, reason):
        self._end(case, "closed", reason)
        self.step(case, "close", reason=reason)


def _case(live_case):
    """A case of case_store.live_cases as the case's own row reads."""
    case = dict(live_case)
    del case["sent_service"], case["sent_ms"]
    return case
