"""Every row of the response-plans table, end to end over MQTT, service in-process."""
import glob
import time

import pytest
from uplink import wire

from desk_helpers import PASSWORD, SECRET, add_account, case_row, query

WRONG = "red fox"


def _run(db, monitor, hubs, code="E130", script=(), account=None, fields=None, wait=None):
    add_account(db, **(account or {}))
    rx, lines = monitor()
    for s in script:
        rx.callee.script(**s)
    h = hubs()
    h.signal("hub-1", code, **(fields or {"zone": 1, "name": "front_door"}))
    assert h.wait_acked()
    return rx, lines, lines.wait(**wait) if wait else None


def _wait_end(lines, *steps, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for l in list(lines.all):
            if l["step"] in steps:
                return l
        time.sleep(0.02)
    raise AssertionError("none of %s in %s" % (steps, lines.steps()))


ENDS = ("dispatch", "cancel", "hold")


# ---- burglar ----

def test_burglar_no_answer_dispatches_police(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs)
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["service"], end["reason"]) == ("dispatch", "police", "no_answer")
    assert lines.steps(end["case"]) == [("open", "E130"), ("call", "plan"), ("no_answer", None),
                                        ("dispatch", "no_answer")]
    call = lines.where(step="call")[0]
    assert call["contact"] == 1 and call["plan"] == "burglar" and call["source"] == "monitor"
    assert case_row(db, end["case"])["status"] == "dispatched"


def test_burglar_wrong_password_dispatches(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, script=[dict(contact=1, answer=True, password=WRONG)])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("dispatch", "wrong_password")
    assert lines.where(step="password")[0]["result"] == "wrong"


def test_burglar_right_password_cancels(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, script=[dict(contact=1, answer=True, password=PASSWORD)])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("cancel", "verified")
    assert lines.steps(end["case"]) == [("open", "E130"), ("call", "plan"), ("answered", None),
                                        ("password", None), ("request", "none"),
                                        ("cancel", "verified")]
    assert not query(db, "SELECT * FROM dispatches")


def test_burglar_right_password_asking_for_dispatch_dispatches(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, script=[
        dict(contact=1, answer=True, password=PASSWORD, request="dispatch")])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("dispatch", "requested")


def test_burglar_entry_alarm_e134_and_tamper_e137_open_burglar_cases(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    h.signal("hub-1", "E134", zone=1)
    h.signal("hub-1", "E374", zone=1)       # exit error goes with the same alarm
    h.signal("hub-1", "E130", zone=4)       # a second zone: same case, not a second plan run
    assert h.wait_acked()
    end = _wait_end(lines, *ENDS)
    assert end["plan"] == "burglar"
    assert len(lines.where(step="open")) == 1
    assert [l["code"] for l in lines.where(step="signal")] == ["E374", "E130"]
    assert len(lines.where(step="call")) == 1
    h.signal("hub-1", "E137", zone=9)
    lines.wait(step="open", code="E137", plan="burglar")


def test_only_if_i_say_no_answer_does_not_dispatch(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, account={"policy": "only_if_i_say"})
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("hold", "no_answer")
    row = case_row(db, end["case"])
    assert row["status"] == "open" and row["waiting"] == "operator"
    assert not query(db, "SELECT * FROM dispatches")


def test_only_if_i_say_dispatches_when_asked(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, account={"policy": "only_if_i_say"}, script=[
        dict(contact=1, answer=True, password=PASSWORD, request="dispatch")])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("dispatch", "requested")


def test_only_if_i_say_wrong_password_alone_does_not_dispatch(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, account={"policy": "only_if_i_say"},
                        script=[dict(contact=1, answer=True, password=WRONG)])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("hold", "wrong_password")


def test_call_next_contacts_when_first_does_not_answer(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, account={"call_next_contacts": True},
                        script=[dict(contact=1, answer=False),
                                dict(contact=2, answer=True, password=PASSWORD)])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("cancel", "verified")
    assert [(l["contact"], l["reason"]) for l in lines.where(step="call")] == \
        [(1, "plan"), (2, "next_contact")]


def test_call_next_contacts_all_unanswered_then_dispatch(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, account={"call_next_contacts": True, "contacts": 3})
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("dispatch", "no_answer")
    assert [l["contact"] for l in lines.where(step="no_answer")] == [1, 2, 3]


def test_without_call_next_contacts_only_contact_1_is_called(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs)
    _wait_end(lines, *ENDS)
    assert [l["contact"] for l in lines.where(step="call")] == [1]


# ---- panic ----

@pytest.mark.parametrize("script,step,reason", [
    (None, "dispatch", "no_answer"),
    (dict(answer=True, password=WRONG, request="cancel"), "dispatch", "wrong_password"),
    (dict(answer=True, password=PASSWORD, request="dispatch"), "dispatch", "confirmed"),
    (dict(answer=True, password=PASSWORD, request="cancel"), "cancel", "requested"),
])
def test_panic(db, monitor, hubs, script, step, reason):
    rx, lines, _ = _run(db, monitor, hubs, code="E120",
                        script=[dict(contact=1, **script)] if script else [],
                        fields={"zone": 0}, account={"policy": "only_if_i_say"})
    end = _wait_end(lines, *ENDS)
    assert (end["plan"], end["step"], end["reason"]) == ("panic", step, reason)
    if step == "dispatch":
        assert end["service"] == "police"


# ---- duress ----

def test_duress_dispatches_police_at_once_and_ignores_every_cancel(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    rx.callee.script(contact=1, answer=True, password=PASSWORD, request="cancel")
    h = hubs()
    h.signal("hub-1", "E121", user=9, name="duress")
    end = lines.wait(step="dispatch")
    assert (end["plan"], end["service"], end["reason"]) == ("duress", "police", "duress")
    assert lines.steps(end["case"]) == [("open", "E121"), ("dispatch", "duress")]
    h.signal("hub-1", "E406", user=1)
    assert h.wait_acked()
    ignored = lines.wait(step="keypad_cancel")
    assert ignored["reason"] == "ignored_duress"
    from monitor.cases import Refused
    with pytest.raises(Refused):
        rx.submit(lambda desk: desk.operator_cancel(end["case"])).result(5)
    with pytest.raises(Refused):
        rx.submit(lambda desk: desk.cancel(desk.case(end["case"]), "operator")).result(5)
    assert case_row(db, end["case"])["status"] == "dispatched"
    assert not lines.where(step="call")


def test_duress_case_open_while_a_cancel_arrives_ignores_it(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    h.signal("hub-1", "E130", zone=1)
    lines.wait(step="call")
    h.signal("hub-1", "E121", user=9)
    h.signal("hub-1", "E406", user=9)
    assert h.wait_acked()
    duress = lines.wait(step="dispatch", plan="duress")
    keypad = {l["plan"]: l["reason"] for l in lines.where(step="keypad_cancel")}
    assert keypad == {"burglar": "recorded", "duress": "ignored_duress"}
    assert duress["reason"] == "duress"


# ---- SOS ----

@pytest.mark.parametrize("code,service", [("E120", "police"), ("E110", "fire"),
                                          ("E100", "medical")])
def test_sos_no_answer_dispatches_the_service_asked_for(db, monitor, hubs, code, service):
    rx, lines, _ = _run(db, monitor, hubs, code=code, fields={"zone": 0, "sos": service})
    end = _wait_end(lines, *ENDS)
    assert (end["plan"], end["step"], end["service"], end["reason"]) == \
        ("sos", "dispatch", service, "no_answer")
    assert lines.where(step="call")[0]["contact"] == 1


def test_sos_fire_confirmed_dispatches_fire(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, code="E110", fields={"zone": 0, "sos": "fire"},
                        script=[dict(contact=1, answer=True, password=PASSWORD,
                                     request="dispatch")])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["service"], end["reason"]) == ("dispatch", "fire", "confirmed")


def test_sos_right_password_cancel_cancels(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, code="E100", fields={"zone": 0, "sos": "medical"},
                        script=[dict(contact=1, answer=True, password=PASSWORD,
                                     request="cancel")])
    end = _wait_end(lines, *ENDS)
    assert (end["plan"], end["step"], end["reason"]) == ("sos", "cancel", "requested")


def test_sos_wrong_password_cannot_cancel(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, code="E110", fields={"zone": 0, "sos": "fire"},
                        script=[dict(contact=1, answer=True, password=WRONG, request="cancel")])
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["service"], end["reason"]) == ("dispatch", "fire", "wrong_password")


# ---- cancel from the keypad ----

def _keypad_cancel_case(db, monitor, hubs, code, script, fields=None, account=None):
    add_account(db, **(account or {}))
    rx, lines = monitor(answer_s=10.0)          # picks up after 0.1 s: time for the E406
    if script:
        rx.callee.script(contact=1, **script)
    h = hubs()
    h.signal("hub-1", code, **(fields or {"zone": 1}))
    lines.wait(step="call")
    h.signal("hub-1", "E406", user=1, name="owner")
    assert h.wait_acked()
    lines.wait(step="keypad_cancel", reason="recorded")
    return _wait_end(lines, *ENDS), lines


def test_keypad_cancel_with_right_password_cancels_burglar(db, monitor, hubs):
    end, lines = _keypad_cancel_case(db, monitor, hubs, "E130",
                                     dict(answer=True, password=PASSWORD))
    assert (end["step"], end["reason"]) == ("cancel", "keypad_cancel")


def test_keypad_cancel_with_right_password_cancels_panic_without_asking(db, monitor, hubs):
    end, lines = _keypad_cancel_case(db, monitor, hubs, "E120",
                                     dict(answer=True, password=PASSWORD), fields={"zone": 0})
    assert (end["plan"], end["step"], end["reason"]) == ("panic", "cancel", "keypad_cancel")


def test_keypad_cancel_with_right_password_cancels_sos(db, monitor, hubs):
    end, lines = _keypad_cancel_case(db, monitor, hubs, "E120",
                                     dict(answer=True, password=PASSWORD),
                                     fields={"zone": 0, "sos": "police"})
    assert (end["plan"], end["step"], end["reason"]) == ("sos", "cancel", "keypad_cancel")


def test_keypad_cancel_with_wrong_password_still_dispatches(db, monitor, hubs):
    end, lines = _keypad_cancel_case(db, monitor, hubs, "E130", dict(answer=True, password=WRONG))
    assert (end["step"], end["reason"]) == ("dispatch", "wrong_password")


def test_keypad_cancel_alone_is_not_enough(db, monitor, hubs):
    end, lines = _keypad_cancel_case(db, monitor, hubs, "E130", None)
    assert (end["step"], end["reason"]) == ("dispatch", "no_answer")


def test_keypad_cancel_that_overtook_its_alarm_counts(db, monitor, hubs):
    """Resends can reorder: the plans go by seq, not arrival."""
    add_account(db)
    rx, lines = monitor()
    rx.callee.script(contact=1, answer=True, password=PASSWORD)
    h = hubs()
    alarm = wire.event(SECRET, "hub-1", int(time.time()),
                       {"code": "E130", "event": 130, "qualifier": "E", "seq": 7, "zone": 1})
    cancel = wire.event(SECRET, "hub-1", int(time.time()),
                        {"code": "E406", "event": 406, "qualifier": "E", "seq": 8, "user": 1})
    h.publish("hub-1", "events", cancel, wait=True)
    h.publish("hub-1", "events", alarm)
    end = _wait_end(lines, *ENDS)
    assert (end["step"], end["reason"]) == ("cancel", "keypad_cancel")


# ---- the timeline records no password ----

def test_timeline_never_holds_the_password(db, monitor, hubs):
    rx, lines, _ = _run(db, monitor, hubs, script=[dict(contact=1, answer=True, password=PASSWORD)])
    _wait_end(lines, *ENDS)
    with open(db, "rb") as f:
        raw = f.read()
    for extra in glob.glob(db + "-*"):
        with open(extra, "rb") as f:
            raw += f.read()
    assert PASSWORD.encode() not in raw and PASSWORD.lower().encode() not in raw
    assert "Heron" not in repr(lines.all)
