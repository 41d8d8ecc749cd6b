"""The plans at work: what a stored signal does to the hub's cases (open one,
join one, a keypad cancel, a test report, a seq reset, duress over all), the
calls the plan places and what their outcomes decide, and the hub's health
(availability, test reports). The decisions themselves are plans.py's; the
case and its timeline are case_record's; the SQL is case_store's."""
import json

from monitor import case_store, plans
from monitor.case_record import CaseRecord, Refused, acting


class PlanRun(CaseRecord):

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
        text = json.dumps(body, sort_keys=True)
        # New signals are the common case: insert first, unless it is known by
        # its identity, with the other signals under its seq (a seq reset?)
        # read in the same round trip on PostgreSQL; look the resend up only
        # when it was not stored.
        stored = case_store.new_signal(self.store, hub, sig["seq"], epoch, code, text,
                                       self.now(), path)
        others = case_store.same_seq_others(self.store, hub, sig["seq"], text)
        signal_id = stored()
        if signal_id is None:
            known = None
            if epoch is not None:
                known = case_store.signal_by_code(self.store, hub, epoch, sig["seq"], code)
            if known is None:
                known = case_store.signal_by_body(self.store, hub, sig["seq"], text)
            if known is not None:
                self._came_by(known, path)
            return False        # a resend: the same signal again
        before, self.via = self.via, (path if path != "mqtt" else None)
        try:
            self._act(hub, sig, epoch, signal_id, others=others())
        finally:
            self.via = before
        return True

    def panel_signal(self, hub, body, window_ms, path="dc09"):
        """Store a stock panel's event and act on it; False when it is a resend.

        A panel names no signal as our hubs do ([Isig]): a resend is the same
        event (code, zone or user, area) under the same DC-09 sequence number
        within window_ms. Its sequence numbers come round again (9999, then
        1), so the same number later is a new event, and is no seq reset;
        the receive time in the body keeps two such bodies apart."""
        sig = body["signal"]
        self.store.lock_hubs([hub])
        code, now = str(sig["code"]), self.now()
        for row in case_store.panel_signals_since(self.store, hub, sig["seq"], code,
                                                  now - window_ms):
            known = json.loads(row["body"])
            if known["signal"] == sig and \
                    known["dc09"].get("partition") == body["dc09"].get("partition"):
                self._came_by(row, path)
                return False
        body = dict(body, heard_ms=now)
        signal_id = case_store.new_signal(self.store, hub, sig["seq"], None, code,
                                          json.dumps(body, sort_keys=True), now, path)()
        if signal_id is None:
            return False        # the very same body in the same millisecond: a resend
        before, self.via = self.via, path
        try:
            self._act(hub, sig, None, signal_id, panel=True)
        finally:
            self.via = before
        return True

    def _came_by(self, row, path):
        paths = (row["paths"] or "mqtt").split(",")
        if path not in paths:
            case_store.set_signal_paths(self.store, row["id"], ",".join(paths + [path]))

    def _act(self, hub, sig, epoch, signal_id, panel=False, others=()):
        """others: the hub's other signals under this seq (same_seq_others)."""
        meaning = plans.classify(sig)
        kind = meaning.kind
        code, seq = sig.get("code"), sig["seq"]
        if not panel and seq_reused(others, sig, seq, epoch):
            self._seq_reset(hub, seq, epoch, code)
        case = None
        # Only these may join a duress case: the others need not look for one.
        # What they look at, the hub's live cases, is read once (each read is
        # a round trip on the alarm's way to its case).
        acts = kind in (plans.OPEN, plans.ATTACH, plans.KEYPAD_CANCEL)
        live = case_store.live_cases(self.store, hub) if acts else None
        duress = self.duress_case(hub, live) if acts else None
        if duress is not None:
            case = self._join_duress(duress, meaning, code, seq, sig)
        elif kind == plans.OPEN:
            case = self._alarm(hub, meaning.plan, meaning.service, code, seq, sig, epoch,
                               overtaken=not panel, live=live)
        elif kind == plans.ATTACH:
            found = self.open_cases(hub, meaning.plan, live)
            if found:
                case = found[0]
                self.step(case, "signal", code=code, seq=seq, zone=sig.get("zone"))
                self.needs_attention(case)
            else:
                case = self._update(hub, "police", code, seq, sig, live)
        elif kind == plans.KEYPAD_CANCEL:
            for open_case in self.open_cases(hub, live=live):
                self._keypad_cancel(open_case, code, seq, sig.get("name"))
        elif kind == plans.TEST_REPORT:
            self.test_report(hub)
        if case is not None:
            case_store.set_signal_case(self.store, signal_id, case["id"])

    def _join_duress(self, duress, meaning, code, seq, sig):
        # Calling a coerced owner endangers them, and nothing from a hub under
        # duress may cancel: every alarm and cancel becomes news for the police.
        if meaning.kind == plans.KEYPAD_CANCEL:
            self.step(duress, "keypad_cancel", reason="ignored_duress", code=code, seq=seq)
        else:
            self.step(duress, "update", service=meaning.service, reason="duress", code=code,
                      seq=seq, zone=sig.get("zone"), name=sig.get("name"))
            self._duress_sends(duress, meaning.service)
        self.needs_attention(duress)
        return duress

    def _duress_sends(self, duress, service):
        """Police went when the duress case opened; a fire or medical alarm that
        joins it sends its own service at once (no call may check it), once."""
        if service in ("fire", "medical") and \
                not case_store.sent_by_duress(self.store, duress["id"], service):
            self.step(duress, "dispatch", service=service, reason="duress")

    def _update(self, hub, service, code, seq, sig, live=None):
        """An alarm after a dispatch: news for the responders, not a second dispatch."""
        case = self.dispatched_case(hub, service, live)
        if case is not None:
            self.step(case, "update", service=service, reason="after_dispatch", code=code,
                      seq=seq, zone=sig.get("zone"), name=sig.get("name"))
            self.needs_attention(case)
        return case

    def _same_alarm(self, hub, plan, service, live=None):
        """The hub's open case of this very alarm (same plan and service), or None."""
        for case in self.open_cases(hub, plan, live):
            if case["service"] == service:
                return case
        return None

    def alarm_outlook(self, hub, plan, service):
        """What an alarm of this plan and service would do now, by the rules
        _act applies (response-plans.md, "Across cases of one hub"), for the
        owner's app to say no more than the truth. {"joins": None (a case of its
        own), "open" (the same alarm, still being handled), "dispatched" (within
        the follow-up window; with "sent_ms") or "duress"; "calls": whether the
        monitoring center calls (or is calling) the premises about it}."""
        if self.duress_case(hub) is not None:
            return {"joins": "duress", "service": service, "calls": False}
        same = self._same_alarm(hub, plan, service)
        if same is not None:
            return {"joins": "open", "service": service,
                    "calls": case_store.call_in_progress(self.store, same["id"])}
        sent = self.dispatched_case(hub, service) if plan != "duress" else None
        if sent is not None:
            return {"joins": "dispatched", "service": service,
                    "sent_ms": case_store.dispatch_time(self.store, sent["id"]), "calls": False}
        return {"joins": None, "calls": case_store.contact(self.store, hub, 1) is not None}

    def _seq_reset(self, hub, seq, epoch, code):
        self.store.count("seq_reset")
        if not [c for c in self.open_cases(hub, "trouble") if c["trouble"] == "seq_reset"]:
            self.open_case(hub, "trouble", reason="seq_reset", trouble="seq_reset", seq=seq,
                           epoch=epoch, code=code)

    def _alarm(self, hub, plan, service, code, seq, sig, epoch=None, overtaken=True, live=None):
        # overtaken: look for a keypad cancel that overtook the alarm. A stock
        # panel sends one message at a time, in order, and its sequence
        # numbers wrap, so a higher one is no later: not for its signals.
        # live: the hub's live cases (_act), unchanged until the case is decided.
        case = self._same_alarm(hub, plan, service, live)
        if case is not None:
            # The same alarm again (another zone, a resend under a new seq):
            # one case per alarm, one plan run.
            self.step(case, "signal", code=code, seq=seq, zone=sig.get("zone"))
            self.needs_attention(case)
            return case
        if plan != "duress":
            followed = self._update(hub, service, code, seq, sig, live)
            if followed is not None:
                return followed
        later = first = None
        if plan != "duress":
            # Read with the case's INSERT, in one round trip on PostgreSQL.
            # Order by seq, not arrival: a keypad cancel that overtook its alarm counts.
            # Within this hub's epoch: a cancel from before its seqs started again is not later.
            if overtaken:
                later = case_store.first_later(self.store, hub, plans.KEYPAD_CANCEL_CODE, seq,
                                               epoch)
            first = case_store.contact_soon(self.store, hub, 1)
        case = self.open_case(hub, plan, service, reason=code, code=code, seq=seq,
                              zone=sig.get("zone"), name=sig.get("name"))
        if plan == "duress":
            self.dispatch(case, "duress")
            self._absorb(case)
            return case
        for row in later() if later else ():
            self._keypad_cancel(case, plans.KEYPAD_CANCEL_CODE, row["seq"],
                                json.loads(row["body"])["signal"].get("name"))
        # _act found the hub under no duress, in this transaction, with its hub held.
        self._ring(case, 1, "plan", next(iter(first()), None))
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
            self._duress_sends(duress, case["service"])

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
        return self._ring(case, position, reason)

    def _ring(self, case, position, reason, contact=False):
        """call(), the hub known to be under no duress. contact: the contact
        at that position as already read (None: there is none)."""
        if contact is False:
            contact = case_store.contact(self.store, case["hub"], position)
        if contact is None:
            self.step(case, "no_contact", contact=position, reason=reason)
            self._decide(case, position, answered=False, password_ok=False, request=None)
            return None
        t = self.now()
        call_id = case_store.new_call(self.store, case["id"], position, t)
        case_store.drop_hold_timer(self.store, case["id"])
        self._set(case, waiting="answer", contact=position, hold_until_ms=None,
                  overdue=self.unacknowledged_too_long(case))
        self.step(case, "call", contact=position, reason=reason, call=call_id,
                  name=contact["name"], phone=contact["phone"], rings_until=t + self.ring_ms)
        self.timer(t + self.ring_ms, "ring", case=case, call_id=call_id)
        self.provider.placed(self, case, position, call_id, t)
        return call_id

    def _live_call(self, call_id, statuses):
        case_id = case_store.case_of_call(self.store, call_id)
        if case_id is None:
            return None, None
        case = self.case(case_id)        # holds the hub: the call is read current
        call = case_store.call(self.store, call_id)
        if call["status"] not in statuses or case["status"] != "open":
            return None, None
        return dict(call), case

    @acting
    def answered(self, call_id):
        call, case = self._live_call(call_id, ("ringing",))
        if call is None:
            raise Refused("call %s is not ringing" % call_id)
        case_store.set_call_status(self.store, call_id, "answered")
        case_store.drop_call_timers(self.store, call_id)
        self._set(case, waiting="request")
        self.step(case, "answered", contact=call["contact"], call=call_id)
        return call, case

    @acting
    def password(self, call_id, ok):
        call, case = self._live_call(call_id, ("answered",))
        if call is None:
            raise Refused("call %s is not answered" % call_id)
        case_store.set_call_password(self.store, call_id, ok)
        self._set(case, password_ok=int(ok))
        self.step(case, "password", contact=call["contact"], result="right" if ok else "wrong",
                  call=call_id)

    @acting
    def request(self, call_id, request):
        """The contact's request on an answered call ("dispatch", "cancel" or None); decides."""
        if request not in ("dispatch", "cancel", None):
            raise Refused("request must be dispatch, cancel or none")
        call, case = self._live_call(call_id, ("answered",))
        if call is None:
            raise Refused("call %s is not answered" % call_id)
        case_store.end_call(self.store, call_id, request)
        self.step(case, "request", contact=call["contact"], reason=request or "none", call=call_id)
        self._decide(case, call["contact"], answered=True,
                     password_ok=bool(call["password_ok"]), request=request)

    @acting
    def no_answer(self, call_id):
        call, case = self._live_call(call_id, ("ringing",))
        if call is None:
            return False
        case_store.set_call_status(self.store, call_id, "no_answer")
        case_store.drop_call_timers(self.store, call_id)
        self.step(case, "no_answer", contact=call["contact"], call=call_id)
        self._decide(case, call["contact"], answered=False, password_ok=False, request=None)
        return True

    def _decide(self, case, position, *, answered, password_ok, request):
        acct = case_store.dispatch_rules(self.store, case["hub"])
        more = case_store.contact_after(self.store, case["hub"], position)
        decision = plans.after_call(case["plan"], acct["policy"], answered=answered,
                                    password_ok=password_ok, request=request,
                                    keypad_cancel=bool(case["keypad_cancel"]),
                                    more_contacts=more,
                                    call_next_contacts=bool(acct["call_next_contacts"]))
        if decision.what == plans.DISPATCH:
            self.dispatch(case, decision.reason)
        elif decision.what == plans.CANCEL:
            self.cancel(case, decision.reason)
        elif decision.what == plans.CALL_NEXT:
            self.call(case, position + 1, "next_contact")
        else:
            until = self.now() + self.hold_ms
            self._set(case, waiting="operator", hold_until_ms=until,
                      overdue=self.unacknowledged_too_long(case))
            self.step(case, "hold", contact=position, reason=decision.reason,
                      policy=acct["policy"], hold_until=until)
            self.timer(until, "hold_due", case=case)

    # ---- hub health ----

    def test_report(self, hub):
        t = self.now()
        self.store.lock_hubs([hub])
        interval_s = case_store.test_received(self.store, hub, t)
        self._set_test_timer(hub, t, interval_s)
        for case in self.open_cases(hub, "trouble"):
            if case["trouble"] == "test_overdue":
                self.close_trouble(case, "test_received")

    def availability(self, hub, state):
        self.store.lock_hubs([hub])
        was = case_store.availability(self.store, hub)
        if was is False or state not in ("online", "offline") or was == state:
            return
        case_store.set_availability(self.store, hub, state)
        troubles = [c for c in self.open_cases(hub, "trouble") if c["trouble"] == "offline"]
        if state == "offline" and not troubles:
            self.open_case(hub, "trouble", reason="offline", trouble="offline")
        elif state == "online":
            for case in troubles:
                self.close_trouble(case, "online")


def seq_reused(others, sig, seq, epoch):
    """Is another body under this seq (others: (epoch, body) rows) a seq reset?
    Only an overflow report (E624) shares a seq legitimately: it takes the seq
    of the signal it dropped (listed in its "lost"), which may have reached us
    before it was dropped."""
    for row in others:
        other = json.loads(row["body"]).get("signal", {})
        if row["epoch"] == epoch and (_reports_drop(sig, seq) or _reports_drop(other, seq)):
            continue
        return True
    return False


def _reports_drop(sig, seq):
    lost = sig.get("lost")
    return sig.get("code") == "E624" and isinstance(lost, list) and seq in lost
