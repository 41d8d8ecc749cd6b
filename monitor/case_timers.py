"""The Desk's timers: setting them (ring timeouts, hold times, test-report
deadlines, a call provider's own) and what each does when it is due. A mixin
of the Desk (cases.py); which timers are due, and claiming them once among
the workers, is timers.py's."""
import json

from monitor import case_store


class CaseTimers:

    def timer(self, due, kind, case=None, call_id=None, hub=None, payload=None):
        case_store.add_timer(self.store, due, kind, hub or (case and case["hub"]),
                             case and case["id"], call_id,
                             json.dumps(payload) if payload is not None else None)

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
        elif kind == "ack_due":
            case = self.case(timer["case_id"])
            if case and case["attention_ms"] is not None and not case["overdue"] \
                    and case["attention_ms"] + self.ack_ms <= self.now() \
                    and case_store.listed(self.store, case["id"]):
                self._set(case, overdue=1)
                self.step(case, "overdue", reason="not_acknowledged")
        elif kind == "test_due":
            hub = timer["hub"]
            if not [c for c in self.open_cases(hub, "trouble") if c["trouble"] == "test_overdue"]:
                self.open_case(hub, "trouble", reason="test_overdue", trouble="test_overdue")

    def arm_test_timer(self, hub, since_ms):
        self.store.lock_hubs([hub])
        self._set_test_timer(hub, since_ms, case_store.test_interval_s(self.store, hub))

    def _set_test_timer(self, hub, since_ms, interval_s):
        # Moved, not deleted and made again: one statement for every test report
        # but a hub's first (half of a bench's signals are test reports).
        due = since_ms + interval_s * 1000 + self.test_grace_ms
        if not case_store.move_test_timer(self.store, hub, due):
            self.timer(due, "test_due", hub=hub)
