"""Cases and their timelines: applies plans.py decisions to the store.

Every function here runs inside the caller's transaction (Store.tx). Each
timeline step is also queued in the outbox table; the receiver emits it from
the store once the transaction has committed (docs/monitoring.md). `desk.out`
keeps the steps this transaction wrote, for the caller's own use."""
import functools
import json

from monitor import accounts, plans
from monitor.clock import SYSTEM


class Refused(Exception):
    """An operator action the plan does not allow (e.g. cancelling a duress case)."""


def _acting(fn):
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


class Desk:
    """The plan runner over one store connection.

    clock: where time comes from (monitor.clock; a fake one in tests).
    provider: who places the calls (calls.OperatorConsole, or one that plugs in).
    ring_ms: how long a call rings before it counts as unanswered.
    hold_ms: how long a case held for a person waits before it is overdue.
    follow_up_ms: alarms this soon after a dispatch join the dispatched case.
    test_grace_ms: how late a periodic test report may be.
    """

    def __init__(self, store, provider, clock=SYSTEM, ring_ms=30_000, test_grace_ms=600_000,
                 hold_ms=300_000, follow_up_ms=1_800_000):
        self.store = store
        self.provider = provider
        self.clock = clock
        self.ring_ms = ring_ms
        self.hold_ms = hold_ms
        self.follow_up_ms = follow_up_ms
        self.test_grace_ms = test_grace_ms
        self.out = []
        self.operator = None        # who is acting now (see _acting)
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
        step_id = self.store.insert(
            "INSERT INTO timeline (case_id, t, step, contact, service, reason, detail) "
            "VALUES (?,?,?,?,?,?,?)",
            case["id"], t, step, contact, service, reason,
            json.dumps(detail, sort_keys=True) if detail else None)
        self.store.db.execute("INSERT INTO outbox (id, claimed_ms) VALUES (?, ?)",
                              (step_id, t))
        line = {"t": t, "source": "monitor", "case": case["id"], "plan": case["plan"],
                "hub": case["hub"], "step": step}
        for k, v in (("contact", contact), ("service", service), ("reason", reason)):
            if v is not None:
                line[k] = v
        line.update(detail)
        line["id"] = step_id
        self.out.append(line)

    def case(self, case_id):
        """The case, read while its hub is held (Store.lock_hubs): what is
        decided from it cannot be decided at once by another worker."""
        row = self.store.one("SELECT * FROM cases WHERE id = ?", case_id)
        if row is not None and self.store.lock_hubs([row["hub"]]):
            row = self.store.one("SELECT * FROM cases WHERE id = ?", case_id)  # now current
        return dict(row) if row else None

    def _set(self, case, **fields):
        # One statement for all of them: on PostgreSQL each is a round trip.
        if fields:
            self.store.db.execute("UPDATE cases SET %s WHERE id = ?"
                                  % ", ".join("%s = ?" % k for k in fields),
                                  tuple(fields.values()) + (case["id"],))
            case.update(fields)

    def open_case(self, hub, plan, service=None, reason=None, trouble=None, **detail):
        case = self.case(self.store.insert(
            "INSERT INTO cases (hub, plan, service, trouble, opened_ms) VALUES (?,?,?,?,?)",
            hub, plan, service, trouble, self.now()))
        self.step(case, "open", service=service, reason=reason, **detail)
        return case

    def open_cases(self, hub, plan=None):
        sql = "SELECT * FROM cases WHERE hub = ? AND status = 'open'"
        args = [hub]
        if plan:
            sql += " AND plan = ?"
            args.append(plan)
        return [dict(r) for r in self.store.q(sql + " ORDER BY id", *args)]

    def duress_case(self, hub):
        """The hub's duress case until an operator closes it, else None. Police
        were sent the moment it opened; while it stands, the hub is under duress."""
        row = self.store.one("SELECT * FROM cases WHERE hub = ? AND plan = 'duress' "
                             "AND status IN ('open', 'dispatched') AND closed_ms IS NULL "
                             "ORDER BY id DESC LIMIT 1", hub)
        return dict(row) if row else None

    def dispatched_case(self, hub, service):
        """The hub's case that sent `service` within the follow-up window, not yet closed."""
        row = self.store.one(
            "SELECT cases.* FROM cases JOIN dispatches ON dispatches.case_id = cases.id "
            "WHERE cases.hub = ? AND cases.status = 'dispatched' AND cases.closed_ms IS NULL "
            "AND dispatches.service = ? AND dispatches.t >= ? ORDER BY cases.id DESC LIMIT 1",
            hub, service, self.now() - self.follow_up_ms)
        return dict(row) if row else None

    # ---- signals ----

    def signal(self, hub, body, path="mqtt"):
        """Store a verified event and act on it. False when this very signal was already stored.

        path: what brought it, "mqtt" or "dc09". The same signal may come by
        both: the same (hub, epoch, seq) and Contact ID code already stored,
        whatever the body (a DC-09 message carries less than the MQTT event),
        is that signal again. A known (hub, seq) with another code, or
        another body without an epoch, is a new signal from a hub whose seqs
        started again: stored and acted on, and the reset opens a trouble case."""
        sig = body["signal"]
        epoch = body.get("epoch")
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            epoch = None
        self.store.lock_hubs([hub])
        code = str(sig.get("code"))
        if epoch is not None:
            known = self.store.one("SELECT id, paths FROM signals WHERE hub = ? AND epoch = ? "
                                   "AND seq = ? AND code = ?", hub, epoch, sig["seq"], code)
            if known is not None:
                self._came_by(known, path)
                return False
        text = json.dumps(body, sort_keys=True)
        # New signals are the common case: insert first (one round trip on
        # PostgreSQL), and look the resend up only when (hub, seq, body) was taken.
        signal_id = self.store.insert(
            "INSERT INTO signals (hub, seq, epoch, code, body, received_ms, paths) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            hub, sig["seq"], epoch, code, text, self.now(), path)
        if signal_id is None:
            known = self.store.one("SELECT id, paths FROM signals WHERE hub = ? AND seq = ? "
                                   "AND body = ?", hub, sig["seq"], text)
            if known is not None:
                self._came_by(known, path)
            return False        # a resend: the same body again
        before, self.via = self.via, (path if path != "mqtt" else None)
        try:
            self._act(hub, sig, epoch, signal_id)
        finally:
            self.via = before
        return True

    def _came_by(self, row, path):
        paths = (row["paths"] or "mqtt").split(",")
        if path not in paths:
            self.store.db.execute("UPDATE signals SET paths = ? WHERE id = ?",
                                  (",".join(paths + [path]), row["id"]))

    def _act(self, hub, sig, epoch, signal_id):
        kind = plans.classify(sig)
        code, seq = sig.get("code"), sig["seq"]
        if self._seq_reused(hub, seq, epoch, sig, signal_id):
            self._seq_reset(hub, seq, epoch, code)
        case = None
        duress = self.duress_case(hub)
        if duress is not None and kind[0] in (plans.OPEN, plans.ATTACH, plans.KEYPAD_CANCEL):
            case = self._join_duress(duress, kind, code, seq, sig)
        elif kind[0] == plans.OPEN:
            case = self._alarm(hub, kind[1], kind[2], code, seq, sig, epoch)
        elif kind[0] == plans.ATTACH:
            found = self.open_cases(hub, kind[1])
            if found:
                case = found[0]
                self.step(case, "signal", code=code, seq=seq, zone=sig.get("zone"))
            else:
                case = self._update(hub, "police", code, seq, sig)
        elif kind[0] == plans.KEYPAD_CANCEL:
            for open_case in self.open_cases(hub):
                self._keypad_cancel(open_case, code, seq, sig.get("name"))
        elif kind[0] == plans.TEST_REPORT:
            self.test_report(hub)
        if case is not None:
            self.store.db.execute("UPDATE signals SET case_id = ? WHERE id = ?",
                                  (case["id"], signal_id))

    def _join_duress(self, duress, kind, code, seq, sig):
        # Calling a coerced owner endangers them, and nothing from a hub under
        # duress may cancel: every alarm and cancel becomes news for the police.
        if kind[0] == plans.KEYPAD_CANCEL:
            self.step(duress, "keypad_cancel", reason="ignored_duress", code=code, seq=seq)
        else:
            self.step(duress, "update", service=kind[2], reason="duress", code=code, seq=seq,
                      zone=sig.get("zone"), name=sig.get("name"))
        return duress

    def _update(self, hub, service, code, seq, sig):
        """An alarm after a dispatch: news for the responders, not a second dispatch."""
        case = self.dispatched_case(hub, service)
        if case is not None:
            self.step(case, "update", service=service, reason="after_dispatch", code=code,
                      seq=seq, zone=sig.get("zone"), name=sig.get("name"))
        return case

    def _seq_reused(self, hub, seq, epoch, sig, signal_id):
        # Another body under this seq. Only an overflow report (E624) shares a
        # seq legitimately: it takes the seq of the signal it dropped (listed
        # in its "lost"), which may have reached us before it was dropped.
        for row in self.store.q("SELECT epoch, body FROM signals WHERE hub = ? AND seq = ? "
                                "AND id <> ?", hub, seq, signal_id):
            other = json.loads(row["body"]).get("signal", {})
            if row["epoch"] == epoch and (_reports_drop(sig, seq) or _reports_drop(other, seq)):
                continue
            return True
        return False

    def _seq_reset(self, hub, seq, epoch, code):
        self.store.count("seq_reset")
        if not [c for c in self.open_cases(hub, "trouble") if c["trouble"] == "seq_reset"]:
            self.open_case(hub, "trouble", reason="seq_reset", trouble="seq_reset", seq=seq,
                           epoch=epoch, code=code)

    def _alarm(self, hub, plan, service, code, seq, sig, epoch=None):
        for case in self.open_cases(hub, plan):
            if case["service"] == service:
                # The same alarm again (another zone, a resend under a new seq):
                # one case per alarm, one plan run.
                self.step(case, "signal", code=code, seq=seq, zone=sig.get("zone"))
                return case
        if plan != "duress":
            followed = self._update(hub, service, code, seq, sig)
            if followed is not None:
                return followed
        case = self.open_case(hub, plan, service, reason=code, code=code, seq=seq,
                              zone=sig.get("zone"), name=sig.get("name"))
        if plan == "duress":
            self.dispatch(case, "duress")
            self._absorb(case)
            return case
        # Order by seq, not arrival: a keypad cancel that overtook its alarm counts.
        # Within this hub's epoch: a cancel from before its seqs started again is not later.
        later = self.store.one("SELECT seq, body FROM signals WHERE hub = ? AND code = ? "
                               "AND seq > ? AND epoch IS NOT DISTINCT FROM ? "
                               "ORDER BY seq LIMIT 1", hub, plans.KEYPAD_CANCEL_CODE, seq, epoch)
        if later is not None:
            self._keypad_cancel(case, plans.KEYPAD_CANCEL_CODE, later["seq"],
                                json.loads(later["body"])["signal"].get("name"))
        self.call(case, 1, "plan")
        return case

    def _absorb(self, duress):
        """The hub's other open alarm cases join the duress case: their calls
        end unanswered-for, and no one is rung about them again."""
        for case in self.open_cases(duress["hub"]):
            if case["id"] == duress["id"] or case["plan"] == "trouble":
                continue
            self._end(case, "closed", "duress")
            self.step(case, "close", reason="duress", joined=duress["id"])
            self.step(duress, "update", service=case["service"], reason="duress",
                      joined=case["id"])

    def _keypad_cancel(self, case, code, seq, name=None):
        # name: the user whose code cancelled, so a person reads who it was.
        who = {"name": name} if name else {}
        if case["plan"] == "duress":
            self.step(case, "keypad_cancel", reason="ignored_duress", code=code, seq=seq, **who)
        elif case["plan"] in plans.CANCELLABLE:
            self._set(case, keypad_cancel=1)
            self.step(case, "keypad_cancel", reason="recorded", code=code, seq=seq, **who)

    # ---- calls ----

    def call(self, case, position, reason):
        if self.duress_case(case["hub"]) is not None:
            raise Refused("hub %s is under duress: no calls to the premises or its contacts"
                          % case["hub"])
        contact = self.store.one("SELECT * FROM contacts WHERE hub = ? AND position = ?",
                                 case["hub"], position)
        if contact is None:
            self.step(case, "no_contact", contact=position, reason=reason)
            self._decide(case, position, answered=False, password_ok=False, request=None)
            return None
        t = self.now()
        call_id = self.store.insert(
            "INSERT INTO calls (case_id, contact, status, placed_ms) VALUES (?,?,'ringing',?)",
            case["id"], position, t)
        self.store.db.execute("DELETE FROM timers WHERE case_id = ? AND kind = 'hold_due'",
                              (case["id"],))
        self._set(case, waiting="answer", contact=position, hold_until_ms=None, overdue=0)
        self.step(case, "call", contact=position, reason=reason, call=call_id,
                  name=contact["name"], phone=contact["phone"], rings_until=t + self.ring_ms)
        self.timer(t + self.ring_ms, "ring", case=case, call_id=call_id)
        self.provider.placed(self, case, position, call_id, t)
        return call_id

    def timer(self, due, kind, case=None, call_id=None, hub=None, payload=None):
        self.store.db.execute(
            "INSERT INTO timers (due_ms, kind, hub, case_id, call_id, payload) VALUES (?,?,?,?,?,?)",
            (due, kind, hub or (case and case["hub"]), case and case["id"], call_id,
             json.dumps(payload) if payload is not None else None))

    def _live_call(self, call_id, statuses):
        row = self.store.one("SELECT case_id FROM calls WHERE id = ?", call_id)
        if row is None:
            return None, None
        case = self.case(row["case_id"])        # holds the hub: the call is read current
        call = self.store.one("SELECT * FROM calls WHERE id = ?", call_id)
        if call["status"] not in statuses or case["status"] != "open":
            return None, None
        return dict(call), case

    @_acting
    def answered(self, call_id):
        call, case = self._live_call(call_id, ("ringing",))
        if call is None:
            raise Refused("call %s is not ringing" % call_id)
        self.store.db.execute("UPDATE calls SET status = 'answered' WHERE id = ?", (call_id,))
        self.store.db.execute("DELETE FROM timers WHERE call_id = ?", (call_id,))
        self._set(case, waiting="request")
        self.step(case, "answered", contact=call["contact"], call=call_id)
        return call, case

    @_acting
    def password(self, call_id, ok):
        call, case = self._live_call(call_id, ("answered",))
        if call is None:
            raise Refused("call %s is not answered" % call_id)
        self.store.db.execute("UPDATE calls SET password_ok = ? WHERE id = ?", (int(ok), call_id))
        self._set(case, password_ok=int(ok))
        self.step(case, "password", contact=call["contact"], result="right" if ok else "wrong",
                  call=call_id)

    @_acting
    def request(self, call_id, request):
        """The contact's request on an answered call ("dispatch", "cancel" or None); decides."""
        if request not in ("dispatch", "cancel", None):
            raise Refused("request must be dispatch, cancel or none")
        call, case = self._live_call(call_id, ("answered",))
        if call is None:
            raise Refused("call %s is not answered" % call_id)
        self.store.db.execute("UPDATE calls SET status = 'ended', request = ? WHERE id = ?",
                              (request, call_id))
        self.step(case, "request", contact=call["contact"], reason=request or "none", call=call_id)
        self._decide(case, call["contact"], True, bool(call["password_ok"]), request)

    @_acting
    def no_answer(self, call_id):
        call, case = self._live_call(call_id, ("ringing",))
        if call is None:
            return False
        self.store.db.execute("UPDATE calls SET status = 'no_answer' WHERE id = ?", (call_id,))
        self.store.db.execute("DELETE FROM timers WHERE call_id = ?", (call_id,))
        self.step(case, "no_answer", contact=call["contact"], call=call_id)
        self._decide(case, call["contact"], False, False, None)
        return True

    def _decide(self, case, position, answered, password_ok, request):
        acct = self.store.one("SELECT policy, call_next_contacts FROM accounts WHERE hub = ?",
                              case["hub"])
        more = self.store.one("SELECT 1 FROM contacts WHERE hub = ? AND position > ?",
                              case["hub"], position) is not None
        what, reason = plans.after_call(case["plan"], acct["policy"], answered, password_ok,
                                        request, bool(case["keypad_cancel"]), more,
                                        bool(acct["call_next_contacts"]))
        if what == plans.DISPATCH:
            self.dispatch(case, reason)
        elif what == plans.CANCEL:
            self.cancel(case, reason)
        elif what == plans.CALL_NEXT:
            self.call(case, position + 1, "next_contact")
        else:
            until = self.now() + self.hold_ms
            self._set(case, waiting="operator", hold_until_ms=until, overdue=0)
            self.step(case, "hold", contact=position, reason=reason, policy=acct["policy"],
                      hold_until=until)
            self.timer(until, "hold_due", case=case)

    # ---- endings ----

    def _end(self, case, status, reason):
        t = self.now()
        self.store.db.execute("UPDATE calls SET status = 'ended' WHERE case_id = ? "
                              "AND status IN ('ringing', 'answered')", (case["id"],))
        self.store.db.execute("DELETE FROM timers WHERE case_id = ?", (case["id"],))
        self._set(case, status=status, waiting=None, ended_ms=t, end_reason=reason)

    def dispatch(self, case, reason, service=None):
        if case["status"] != "open":
            raise Refused("case %s is %s" % (case["id"], case["status"]))
        if case["plan"] == "trouble":
            raise Refused("a trouble case has no service to dispatch")
        service = service or case["service"] or "police"
        # At most once, whatever was read: the primary key refuses a second row
        # (the item fails and rolls back whole), and the hub is held besides.
        self.store.db.execute("INSERT INTO dispatches (case_id, service, reason, t) "
                              "VALUES (?,?,?,?)", (case["id"], service, reason, self.now()))
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

    # ---- operator actions (the console) ----

    @_acting
    def operator_call(self, case_id, position=None):
        case = self._open(case_id)
        if case["plan"] not in plans.CANCELLABLE:
            raise Refused("the %s plan places no calls" % case["plan"])
        # A read, but a current one: _open() holds the case's hub, and every path
        # that places or ends a call holds it too (Store.lock_hubs).
        if self.store.one("SELECT 1 FROM calls WHERE case_id = ? AND status IN "
                          "('ringing', 'answered')", case_id):
            raise Refused("a call is already in progress")
        return self.call(case, position or (case["contact"] or 0) + 1, "operator")

    @_acting
    def operator_password(self, case_id, spoken):
        """Check what the caller said; records right/wrong on the live call. Returns the verdict."""
        case = self._open(case_id)
        ok = accounts.check_password(self.store, case["hub"], spoken)
        call = self.store.one("SELECT id FROM calls WHERE case_id = ? AND status = 'answered' "
                              "ORDER BY id DESC LIMIT 1", case_id)
        if call is None:
            raise Refused("answer a call first: the password is checked on a call")
        self.password(call["id"], ok)
        return ok

    @_acting
    def operator_dispatch(self, case_id):
        self.dispatch(self._open(case_id), "operator")

    @_acting
    def operator_close(self, case_id):
        """The responders are done with a dispatched case (or the duress is over):
        later alarms from the hub start a new case again."""
        case = self.case(case_id)
        if case is None:
            raise Refused("no case %s" % case_id)
        if case["status"] != "dispatched" or case["closed_ms"] is not None:
            raise Refused("only a dispatched case can be closed; case %s is %s"
                          % (case_id, "closed" if case["closed_ms"] else case["status"]))
        self._set(case, closed_ms=self.now())
        self.step(case, "close", reason="operator")

    @_acting
    def operator_cancel(self, case_id):
        case = self._open(case_id)
        if case["plan"] == "trouble":
            self.close_trouble(case, "operator")
            return
        policy = self.store.one("SELECT policy FROM accounts WHERE hub = ?", case["hub"])["policy"]
        held = case["plan"] == "burglar" and policy == "only_if_i_say" \
            and case["waiting"] == "operator"
        if not case["password_ok"] and not held:
            raise Refused("cancel needs the right verbal password on a call")
        self.cancel(case, "operator")

    def _open(self, case_id):
        case = self.case(case_id)
        if case is None:
            raise Refused("no case %s" % case_id)
        if case["status"] != "open":
            raise Refused("case %s is %s" % (case_id, case["status"]))
        return case

    # ---- hub health ----

    def test_report(self, hub):
        t = self.now()
        self.store.lock_hubs([hub])
        row = self.store.one("UPDATE accounts SET last_test_ms = ? WHERE hub = ? "
                             "RETURNING test_interval_s", t, hub)
        self._set_test_timer(hub, t, row["test_interval_s"])
        for case in self.open_cases(hub, "trouble"):
            if case["trouble"] == "test_overdue":
                self.close_trouble(case, "test_received")

    def arm_test_timer(self, hub, since_ms):
        self.store.lock_hubs([hub])
        row = self.store.one("SELECT test_interval_s FROM accounts WHERE hub = ?", hub)
        self._set_test_timer(hub, since_ms, row["test_interval_s"])

    def _set_test_timer(self, hub, since_ms, interval_s):
        # Moved, not deleted and made again: one statement for every test report
        # but a hub's first (half of a bench's signals are test reports).
        due = since_ms + interval_s * 1000 + self.test_grace_ms
        if not self.store.x("UPDATE timers SET due_ms = ? WHERE kind = 'test_due' AND hub = ?",
                            due, hub):
            self.timer(due, "test_due", hub=hub)

    def availability(self, hub, state):
        self.store.lock_hubs([hub])
        row = self.store.one("SELECT availability FROM accounts WHERE hub = ?", hub)
        if row is None or state not in ("online", "offline") or row["availability"] == state:
            return
        self.store.db.execute("UPDATE accounts SET availability = ? WHERE hub = ?", (state, hub))
        troubles = [c for c in self.open_cases(hub, "trouble") if c["trouble"] == "offline"]
        if state == "offline" and not troubles:
            self.open_case(hub, "trouble", reason="offline", trouble="offline")
        elif state == "online":
            for case in troubles:
                self.close_trouble(case, "online")

    # ---- timers ----

    def fire(self, timer):
        """Act on a due timer that this transaction has just claimed."""
        kind = timer["kind"]
        if kind == "ring":
            self.no_answer(timer["call_id"])
        elif kind in ("provider", "answer"):    # "answer": set by an older version
            fire = getattr(self.provider, "fire", None)
            if fire is not None:
                fire(self, timer, json.loads(timer["payload"]) if timer["payload"] else None)
        elif kind == "hold_due":
            case = self.case(timer["case_id"])
            if case and case["status"] == "open" and case["waiting"] == "operator" \
                    and not case["overdue"]:
                self._set(case, overdue=1)
                self.step(case, "overdue", contact=case["contact"], reason="hold_time")
        elif kind == "test_due":
            hub = timer["hub"]
            if not [c for c in self.open_cases(hub, "trouble") if c["trouble"] == "test_overdue"]:
                self.open_case(hub, "trouble", reason="test_overdue", trouble="test_overdue")


def _reports_drop(sig, seq):
    lost = sig.get("lost")
    return sig.get("code") == "E624" and isinstance(lost, list) and seq in lost
