"""What an operator does to a case from the console: call a contact, check
the verbal password, dispatch, cancel, close. Each refuses (Refused) what the
plan does not allow; each records who acted (operator="name"). A mixin of the
Desk (cases.py); the console's routes reach it through Receiver.submit
(monitor/web/actions.py)."""
from monitor import case_store, plans
from monitor.case_record import Refused, acting


class OperatorActions:

    @acting
    def operator_call(self, case_id, position=None):
        case = self._open(case_id)
        if case["plan"] not in plans.CANCELLABLE:
            raise Refused("the %s plan places no calls" % case["plan"])
        # A read, but a current one: _open() holds the case's hub, and every path
        # that places or ends a call holds it too (Store.lock_hubs).
        if case_store.call_in_progress(self.store, case_id):
            raise Refused("a call is already in progress")
        return self.call(case, position or (case["contact"] or 0) + 1, "operator")

    @acting
    def operator_password(self, case_id, ok):
        """Record the verdict on what the caller said (right/wrong) on the live
        call. The password was checked before (actions.act, off the engine
        thread: the hash is slow on purpose). Returns the verdict."""
        if not isinstance(ok, bool):
            raise TypeError("operator_password takes the verdict (True/False), not the words")
        case = self._open(case_id)
        call_id = case_store.answered_call(self.store, case_id)
        if call_id is None:
            raise Refused("answer a call first: the password is checked on a call")
        self.password(call_id, ok)
        return ok

    @acting
    def operator_dispatch(self, case_id):
        self.dispatch(self._open(case_id), "operator")

    @acting
    def operator_close(self, case_id):
        """The responders are done with a dispatched case (or the duress is over),
        or a cancelled one was seen to: it leaves the open list, and later
        alarms from the hub start a new case again."""
        case = self.case(case_id)
        if case is None:
            raise Refused("no case %s" % case_id)
        if case["status"] == "open":
            raise Refused("case %s is still open: dispatch or cancel it first" % case_id)
        if case["status"] not in ("dispatched", "cancelled") or case["closed_ms"] is not None:
            raise Refused("case %s is closed already" % case_id)
        self._set(case, closed_ms=self.now(), attention_ms=None, update_ms=None, overdue=0)
        case_store.drop_ack_timers(self.store, case_id)
        self.step(case, "close", reason="operator")

    @acting
    def operator_acknowledge(self, case_id):
        """An operator has seen the case and what last joined it: the mark goes,
        and with it an overdue that only the wait for this caused."""
        case = self.case(case_id)
        if case is None:
            raise Refused("no case %s" % case_id)
        if not case_store.listed(self.store, case_id):
            raise Refused("case %s is closed" % case_id)
        if case["attention_ms"] is None:
            raise Refused("nothing new on case %s to acknowledge" % case_id)
        held_too_long = case["status"] == "open" and case["waiting"] == "operator" \
            and case["hold_until_ms"] is not None and case["hold_until_ms"] <= self.now()
        self._set(case, attention_ms=None, update_ms=None, overdue=int(held_too_long))
        case_store.drop_ack_timers(self.store, case_id)
        self.step(case, "acknowledge")

    @acting
    def operator_cancel(self, case_id):
        case = self._open(case_id)
        if case["plan"] == "trouble":
            self.close_trouble(case, "operator")
            return
        policy = case_store.policy(self.store, case["hub"])
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
