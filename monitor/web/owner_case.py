"""The owner's app and the monitoring case, as Ring's app does it: during an
alarm the owner cancels it with the verbal password, or confirms the emergency
and help is sent at once (docs/monitoring.md, "The owner's app").

Engine functions (run by Receiver.submit inside the engine's transaction) and
the reads the app shows. A duress case is never shown and never answers
differently from no alarm at all: the app may be in the coercer's hands."""
import json

from monitor import accounts, case_store, plans
from monitor.cases import Refused
from monitor.web import duress_cover, words

NO_ALARM = "there is no alarm to cancel or confirm now"
HISTORY = 30
BY = "owner's app"
DURESS_CODE = "121"
# Cancel attempts in the app per alarm: then only the monitoring center's call
# (where the operator hears the caller) can cancel it.
GUESSES = 3
LOCKED = ("%d wrong verbal passwords: this alarm can no longer be cancelled in the app. "
          "The monitoring center will call you; give the password on the call." % GUESSES)


def duress_open(store, hub):
    return store.one("SELECT id FROM cases WHERE hub = ? AND plan = 'duress' AND "
                     "closed_ms IS NULL", hub) is not None


def alarm(store, hub):
    """The hub's open alarm case the owner may act on (None under duress)."""
    if duress_open(store, hub):
        return None
    marks = ",".join("?" * len(plans.CANCELLABLE))
    row = store.one("SELECT * FROM cases WHERE hub = ? AND status = 'open' AND plan IN (%s) "
                    "ORDER BY id DESC LIMIT 1" % marks, hub, *plans.CANCELLABLE)
    return dict(row) if row else None


def shown(store, hub, now):
    """(case, covered): the alarm the app shows and acts on. Under duress that
    is the case the duress case took in, shown as the owner's code would have
    left it, until it would have ended (duress_cover); covered is then True."""
    if not duress_open(store, hub):
        return alarm(store, hub), False
    case = duress_cover.covered_case(store, hub)
    if case is None:
        return None, False
    end = duress_cover.ending(store, case)
    return (case, True) if end is None or end[0] > now else (None, False)


def check_input(spoken):
    if not isinstance(spoken, str) or not spoken.strip():
        raise Refused("type your verbal password")


def claim_fn(hub):
    """fn(desk): count a cancel attempt on the hub's alarm before its password
    is checked (so guesses sent at once are counted too), and hand back what to
    check it against: {"case", "hash"}. Refused when there is no alarm, or when
    GUESSES attempts were made on it: cancelling it in the app is locked."""
    def run(desk):
        desk.store.lock_hubs([hub])
        case, _ = shown(desk.store, hub, desk.now())
        if case is None:
            raise Refused(NO_ALARM)
        if case["app_guesses"] >= GUESSES:
            raise Refused(LOCKED)
        desk._set(case, app_guesses=case["app_guesses"] + 1)
        return {"case": case["id"], "hash": accounts.password_hash(desk.store, hub)}
    return run


def verdict_fn(hub, case_id, ok):
    """fn(desk): the checked password's verdict on the alarm it was claimed for.
    Right cancels it; a wrong one is recorded on the case (never the password)
    and changes nothing else: the monitoring center still calls. The wrong one
    that makes GUESSES records the lock, for the operator to see."""
    def run(desk):
        desk.store.lock_hubs([hub])
        case, covered = shown(desk.store, hub, desk.now())
        if case is None or case["id"] != case_id:
            raise Refused(NO_ALARM)
        result = "right" if ok else "wrong"
        desk.step(case, "app", reason="cancel", result=result, by=BY)
        if covered:
            # Nothing cancels a duress case; the operator sees it was tried.
            desk.step(case_store.standing_duress(desk.store, hub), "app",
                      reason="ignored_duress", request="cancel", result=result, by=BY)
        if ok:
            if not covered:
                desk.cancel(case, "owner_app")
            return {"cancelled": True, "case": case["id"]}
        desk._set(case, app_wrong=case["app_wrong"] + 1)
        if case["app_wrong"] == GUESSES:
            desk.step(case, "app", reason="locked", wrong=GUESSES, by=BY)
        return {"cancelled": False, "password": "wrong"}
    return run


def confirm_fn(hub):
    """fn(desk): the owner confirms the emergency: the case's service is sent now."""
    def run(desk):
        desk.store.lock_hubs([hub])
        case, covered = shown(desk.store, hub, desk.now())
        if case is None:
            raise Refused(NO_ALARM)
        desk.step(case, "app", reason="confirm", by=BY)
        if covered:
            # Police were sent when the duress case opened; the operator sees it.
            desk.step(case_store.standing_duress(desk.store, hub), "app",
                      reason="ignored_duress", request="confirm", by=BY)
        else:
            desk.dispatch(case, "confirmed_in_app")
        return {"dispatched": True, "case": case["id"], "service": case["service"] or "police"}
    return run


def alarm_view(store, hub, now):
    case, covered = shown(store, hub, now)
    if case is None:
        return None
    row = store.one("SELECT detail, reason FROM timeline WHERE case_id = ? AND step = 'open' "
                    "ORDER BY id LIMIT 1", case["id"])
    detail = json.loads(row["detail"]) if row and row["detail"] else {}
    code = detail.get("code")
    call = store.one("SELECT status FROM calls WHERE case_id = ? AND status IN "
                     "('ringing', 'answered') ORDER BY id DESC LIMIT 1", case["id"])
    if covered:
        rings, _ = duress_cover.ring_out(store, case)
        call = {"status": "ringing"} if rings is not None and now < rings else None
    return {"id": case["id"], "plan": case["plan"], "service": case["service"],
            "what": words.describe(code, detail.get("name")) if code else case["plan"],
            "code": code, "calling": call["status"] if call else None,
            "locked": case["app_guesses"] >= GUESSES}


def history(store, hub, wall_ms, now):
    """What happened at the hub, newest first, in words: the signals it sent and
    how each case ended. A duress disarm reads as an ordinary one: its opening
    report shows as any other, its E121 as the keypad cancel the owner's code
    would have sent in its place (or not at all), and of the duress case nothing
    shows (the alarms that joined it, its dispatch); a case it took in ends as
    it would have ended (duress_cover). Inside the abort window, where the
    owner's code sends nothing, its opening does not show either."""
    out = []
    for r in store.q("SELECT signals.id, signals.code, signals.body, signals.received_ms "
                     "FROM signals LEFT JOIN cases ON cases.id = signals.case_id "
                     "WHERE signals.hub = ? AND (cases.plan IS NULL OR cases.plan != 'duress' "
                     "OR signals.code LIKE ?) ORDER BY signals.id DESC LIMIT ?",
                     hub, "%" + DURESS_CODE, HISTORY):
        code = r["code"]
        if code.endswith(DURESS_CODE):
            if not duress_cover.stood_for_cancel(store, hub, r["id"]):
                continue
            code = duress_cover.CANCEL_CODE
        elif code == duress_cover.OPENING_CODE and \
                duress_cover.opened_an_abort(store, hub, r["id"]):
            continue
        try:
            name = json.loads(r["body"]).get("signal", {}).get("name")
        except (ValueError, AttributeError):
            name = None
        out.append({"t": wall_ms(r["received_ms"]), "code": code,
                    "text": words.describe(code, name, owner=True)})
    for r in store.q("SELECT cases.plan, timeline.step, timeline.service, timeline.reason, "
                     "timeline.t FROM timeline JOIN cases ON cases.id = timeline.case_id "
                     "WHERE cases.hub = ? AND cases.plan != 'duress' "
                     "AND timeline.step IN ('dispatch', 'cancel') ORDER BY timeline.id DESC "
                     "LIMIT ?", hub, HISTORY):
        out.append(_ended(r["t"], r["step"], r["reason"], r["service"], wall_ms))
    for case in store.q("SELECT * FROM cases WHERE hub = ? AND end_reason = 'duress' "
                        "ORDER BY id DESC LIMIT ?", hub, HISTORY):
        end = duress_cover.ending(store, case)
        if end is not None and end[0] <= now:
            out.append(_ended(end[0], end[1], end[2], case["service"], wall_ms))
    out.sort(key=lambda x: -x["t"])
    return out[:HISTORY]


def _ended(t, step, reason, service, wall_ms):
    why = words.reason(reason)
    text = ("%s sent (%s)" % ((service or "police").capitalize(), why)
            if step == "dispatch" else "Alarm cancelled (%s)" % why)
    return {"t": wall_ms(t), "text": text}


# The service as the owner says it: (who, "is"/"are", "its"/"their").
WHO = {"police": ("the police", "are", "their"), "fire": ("the fire brigade", "is", "its"),
       "medical": ("an ambulance", "is", "its")}


def sos_said(outlook, service, wall_ms):
    """What the app tells the owner an SOS does: only what the monitoring
    center will really do (Desk.alarm_outlook), never a call that will not be
    placed. Under duress only who is on the way, as true for any hub that sent
    them at once: nothing tells of the duress case. {"said", "sent_ms"}: the
    words, with "{time}" where the page puts sent_ms in its time format."""
    who, be, its = WHO[service]
    joins = outlook["joins"]
    if joins == "duress":
        return {"said": "Help requested: %s %s on %s way." % (who, be, its)}
    if joins == "dispatched":
        return {"said": "Added to the open %s case \u2014 %s %s already sent at {time}."
                        % (service, who, "were" if be == "are" else "was"),
                "sent_ms": wall_ms(outlook["sent_ms"])}
    if joins == "open":
        return {"said": "Added to the %s alarm already open: %s." % (
            service, "the monitoring center is calling you" if outlook["calls"]
            else "the monitoring center has it")}
    if outlook["calls"]:
        return {"said": "Help requested: %s. The monitoring center will call you." % who}
    return {"said": "Help requested: %s %s being sent." % (who, be)}

