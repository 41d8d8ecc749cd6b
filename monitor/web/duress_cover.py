"""What the owner's app shows of a hub under duress: the story an ordinary
disarm would have told, so a coercer holding the phone learns nothing.

Forced to disarm after a burglary was reported, the hub sends E121 where the
owner's code sends a keypad cancel (E406), and the duress case takes in the
open burglary case (plan_run._absorb). The owner's code would leave that case
open and ringing, with "Keypad cancel by owner" in the history, until the call
ends, the app cancels it or the owner confirms it. The cover shows exactly
that, from what is recorded: the absorbed case as the alarm, the E121 read as
the cancel it stood in for, and the ending the ordinary case would have had.
Inside the abort window the owner's code sends nothing at all; the duress
code's burst (E121, the alarms it released, the opening) then shows as
nothing either (opened_an_abort). Nothing here stands the duress response
down: a cancel or confirm in the app is recorded on both cases for the
operator, and changes nothing else."""
import json

from monitor import case_store, plans

CANCEL_CODE = plans.KEYPAD_CANCEL_CODE
DURESS_CODE = "121"
OPENING_CODE = "E401"
_LOOK_BACK = 50        # signals: far more than one armed period's alarms and reports


def covered_case(store, hub):
    """The alarm case the standing duress case took in (the one the app was
    showing), as a dict, or None when the hub is not under duress or none was."""
    duress = case_store.standing_duress(store, hub)
    if duress is None:
        return None
    marks = ",".join("?" * len(plans.CANCELLABLE))
    row = store.one("SELECT * FROM cases WHERE hub = ? AND end_reason = 'duress' AND id < ? "
                    "AND ended_ms >= ? AND plan IN (%s) ORDER BY id DESC LIMIT 1" % marks,
                    hub, duress["id"], duress["opened_ms"], *plans.CANCELLABLE)
    return dict(row) if row else None


def ending(store, case):
    """How the ordinary case would have ended, as the app shows it: (t, step,
    reason) with step "cancel" or "dispatch", or None while it would be open."""
    ends = []
    for r in store.q("SELECT t, reason, detail FROM timeline WHERE case_id = ? AND step = 'app' "
                     "ORDER BY id", case["id"]):
        detail = json.loads(r["detail"]) if r["detail"] else {}
        if r["reason"] == "cancel" and detail.get("result") == "right":
            ends.append((r["t"], "cancel", "owner_app"))
        elif r["reason"] == "confirm":
            ends.append((r["t"], "dispatch", "confirmed_in_app"))
    rings, unanswered = ring_out(store, case)
    if unanswered is not None:
        ends.append((rings, "dispatch", unanswered))
    return min(ends) if ends else None


def ring_out(store, case):
    """(t, dispatch reason): when the ordinary case's calls would have stopped
    ringing, unanswered (the forced owner is not called: no call goes to a hub
    under duress), and the reason it would then be dispatched, or None when
    the plan would hold it instead. (None, None) when no call was placed."""
    row = store.one("SELECT t, contact, detail FROM timeline WHERE case_id = ? AND "
                    "step = 'call' ORDER BY id DESC LIMIT 1", case["id"])
    until = json.loads(row["detail"] or "{}").get("rings_until") if row else None
    if until is None:
        return None, None
    ring_ms, position = until - row["t"], row["contact"] or 1
    rules = case_store.dispatch_rules(store, case["hub"])
    while True:
        decision = plans.after_call(
            case["plan"], rules["policy"], answered=False, password_ok=False, request=None,
            keypad_cancel=True, more_contacts=case_store.contact_after(store, case["hub"], position),
            call_next_contacts=bool(rules["call_next_contacts"]))
        if decision.what != plans.CALL_NEXT:
            return until, decision.reason if decision.what == plans.DISPATCH else None
        position, until = position + 1, until + ring_ms


def stood_for_cancel(store, hub, signal_id):
    """Whether the duress signal signal_id came where the owner's code sends a
    keypad cancel: after an alarm went out since the last arm or disarm
    (firmware/panel/panel.py _disarm: a cancel only when an alarm was sent)."""
    for r in store.q("SELECT code, body FROM signals WHERE hub = ? AND id < ? "
                     "ORDER BY id DESC LIMIT ?", hub, signal_id, _LOOK_BACK):
        if r["code"][1:] == CANCEL_CODE[1:] or r["code"].endswith("401"):
            return False
        try:
            meaning = plans.classify(json.loads(r["body"]).get("signal", {}))
        except (ValueError, AttributeError):
            continue
        if meaning.kind in (plans.OPEN, plans.ATTACH) and meaning.plan != "duress":
            return True
    return False


def opened_an_abort(store, hub, signal_id):
    """Whether the opening signal_id ended a duress disarm inside the abort
    window: the owner's code there aborts the burglary and sends nothing, no
    opening either (panel.py _disarm). The hub sends such a disarm as one burst
    at one moment, consecutive seqs: E121 first, the alarms it released, then
    the opening; the released alarms joined the duress case, and the E121 did
    not stand for a cancel (nothing had gone out before it)."""
    row = store.one("SELECT seq, body FROM signals WHERE id = ?", signal_id)
    seq, moment = row["seq"], _moment(row["body"])
    released = 0
    for r in store.q("SELECT signals.id, signals.seq, signals.code, signals.body, cases.plan "
                     "FROM signals LEFT JOIN cases ON cases.id = signals.case_id "
                     "WHERE signals.hub = ? AND signals.id < ? ORDER BY signals.id DESC LIMIT ?",
                     hub, signal_id, _LOOK_BACK):
        if r["seq"] != seq - 1 or _moment(r["body"]) != moment or r["plan"] != "duress":
            return False
        if r["code"] == "E" + DURESS_CODE:
            return released > 0 and not stood_for_cancel(store, hub, r["id"])
        released, seq = released + 1, r["seq"]
    return False


def _moment(body):
    # The hub's time of the signal: "time" over MQTT, the frame's time over DC-09.
    try:
        body = json.loads(body)
        return body.get("time", body.get("dc09", {}).get("time"))
    except (ValueError, AttributeError):
        return None
