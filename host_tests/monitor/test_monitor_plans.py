"""Every row of the response-plans table, on the engine in-process with a
fake clock (engine_rig.py): a 30 s ring takes no time, nothing sleeps."""
import glob

import pytest

from desk_helpers import PASSWORD
from engine_rig import Rig
from monitor.cases import Refused

pytestmark = pytest.mark.fast

WRONG = "red fox"
RING = 30_000


@pytest.fixture
def rig(db):
    return Rig(db, ring_ms=RING)


# ---- burglar ----

def test_burglar_no_answer_dispatches_police(rig):
    case = rig.account().signal("E130", zone=1, name="front_door")
    rig.advance(RING - 1)
    assert rig.case(case)["status"] == "open"          # still ringing
    rig.advance(1)
    end = rig.end(case)
    assert (end["step"], end["service"], end["reason"]) == ("dispatch", "police", "no_answer")
    assert rig.steps(case) == [("open", "E130"), ("call", "plan"), ("no_answer", None),
                               ("dispatch", "no_answer")]
    call = rig.where(step="call")[0]
    assert call["contact"] == 1 and call["plan"] == "burglar" and call["source"] == "monitor"
    assert call["rings_until"] == call["t"] + RING
    assert rig.phones.placed_calls[0]["contact"] == 1
    assert rig.case(case)["status"] == "dispatched"


def test_burglar_wrong_password_dispatches(rig):
    case = rig.account().signal("E130", zone=1)
    rig.pick_up(case, WRONG)
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("dispatch", "wrong_password")
    assert rig.where(step="password")[0]["result"] == "wrong"


def test_burglar_right_password_cancels(rig):
    case = rig.account().signal("E130", zone=1)
    rig.pick_up(case, PASSWORD)
    assert rig.steps(case) == [("open", "E130"), ("call", "plan"), ("answered", None),
                               ("password", None), ("request", "none"), ("cancel", "verified")]
    assert rig.dispatches() == []


def test_burglar_right_password_asking_for_dispatch_dispatches(rig):
    case = rig.account().signal("E130", zone=1)
    rig.pick_up(case, PASSWORD, "dispatch")
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("dispatch", "requested")


def test_burglar_entry_alarm_e134_and_tamper_e137_open_burglar_cases(rig):
    rig.account()
    case = rig.signal("E134", zone=1)
    assert rig.signal("E374", zone=1) == case       # exit error goes with the same alarm
    assert rig.signal("E130", zone=4) == case       # a second zone: same case, not a second run
    assert [l["code"] for l in rig.where(step="signal")] == ["E374", "E130"]
    assert len(rig.where(step="call")) == 1
    rig.pick_up(case, PASSWORD)                     # cancelled: the next alarm is a new case
    tamper = rig.signal("E137", zone=9)
    assert tamper != case and rig.case(tamper)["plan"] == "burglar"


def test_only_if_i_say_no_answer_does_not_dispatch(rig):
    case = rig.account(policy="only_if_i_say").signal("E130", zone=1)
    rig.advance(RING)
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("hold", "no_answer")
    row = rig.case(case)
    assert row["status"] == "open" and row["waiting"] == "operator"
    assert rig.dispatches() == []


def test_only_if_i_say_dispatches_when_asked(rig):
    case = rig.account(policy="only_if_i_say").signal("E130", zone=1)
    rig.pick_up(case, PASSWORD, "dispatch")
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("dispatch", "requested")


def test_only_if_i_say_wrong_password_alone_does_not_dispatch(rig):
    case = rig.account(policy="only_if_i_say").signal("E130", zone=1)
    rig.pick_up(case, WRONG)
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("hold", "wrong_password")


def test_call_next_contacts_when_first_does_not_answer(rig):
    case = rig.account(call_next_contacts=True).signal("E130", zone=1)
    rig.advance(RING)
    rig.pick_up(case, PASSWORD)
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("cancel", "verified")
    assert [(l["contact"], l["reason"]) for l in rig.where(step="call")] == \
        [(1, "plan"), (2, "next_contact")]


def test_call_next_contacts_all_unanswered_then_dispatch(rig):
    case = rig.account(call_next_contacts=True, contacts=3).signal("E130", zone=1)
    rig.advance(3 * RING)
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("dispatch", "no_answer")
    assert [l["contact"] for l in rig.where(step="no_answer")] == [1, 2, 3]


def test_without_call_next_contacts_only_contact_1_is_called(rig):
    rig.account().signal("E130", zone=1)
    rig.advance(10 * RING)
    assert [l["contact"] for l in rig.where(step="call")] == [1]


# ---- panic ----

@pytest.mark.parametrize("said,asks,step,reason", [
    (None, None, "dispatch", "no_answer"),
    (WRONG, "cancel", "dispatch", "wrong_password"),
    (PASSWORD, "dispatch", "dispatch", "confirmed"),
    (PASSWORD, "cancel", "cancel", "requested"),
])
def test_panic(rig, said, asks, step, reason):
    case = rig.account(policy="only_if_i_say").signal("E120", zone=0)
    if said is None:
        rig.advance(RING)
    else:
        rig.pick_up(case, said, asks)
    end = rig.end(case)
    assert (end["plan"], end["step"], end["reason"]) == ("panic", step, reason)
    if step == "dispatch":
        assert end["service"] == "police"


# ---- duress ----

def test_duress_dispatches_police_at_once_and_ignores_every_cancel(rig):
    case = rig.account().signal("E121", user=9, name="duress")
    end = rig.end(case)
    assert (end["plan"], end["service"], end["reason"]) == ("duress", "police", "duress")
    assert rig.steps(case) == [("open", "E121"), ("dispatch", "duress")]
    rig.signal("E406", user=1)
    assert rig.where(step="keypad_cancel")[0]["reason"] == "ignored_duress"
    with pytest.raises(Refused):
        rig.act(lambda desk: desk.operator_cancel(case))
    with pytest.raises(Refused):
        rig.act(lambda desk: desk.cancel(desk.case(case), "operator"))
    assert rig.case(case)["status"] == "dispatched"
    assert rig.phones.placed_calls == []


def test_duress_while_a_burglary_rings_takes_the_burglary_over(rig):
    """The owner is being forced to disarm during a break-in: the call about the
    burglary must stop, and the keypad cancel must not count for it."""
    rig.account()
    burglary = rig.signal("E130", zone=1)
    assert rig.ringing(burglary)
    duress = rig.signal("E121", user=9)
    rig.signal("E406", user=9)
    assert rig.ringing(burglary) is None
    assert (rig.case(burglary)["status"], rig.case(burglary)["end_reason"]) == ("closed", "duress")
    assert [l["case"] for l in rig.where(step="keypad_cancel")] == [duress]
    assert rig.where(step="keypad_cancel")[0]["reason"] == "ignored_duress"
    rig.advance(10 * RING)
    assert [d["case_id"] for d in rig.dispatches()] == [duress]
    assert len(rig.phones.placed_calls) == 1          # the one before the duress, no other


# ---- SOS ----

@pytest.mark.parametrize("code,service", [("E120", "police"), ("E110", "fire"),
                                          ("E100", "medical")])
def test_sos_no_answer_dispatches_the_service_asked_for(rig, code, service):
    case = rig.account().signal(code, sos=service)
    rig.advance(RING)
    end = rig.end(case)
    assert (end["plan"], end["step"], end["service"], end["reason"]) == \
        ("sos", "dispatch", service, "no_answer")
    assert rig.where(step="call")[0]["contact"] == 1


def test_sos_fire_confirmed_dispatches_fire(rig):
    case = rig.account().signal("E110", sos="fire")
    rig.pick_up(case, PASSWORD, "dispatch")
    end = rig.end(case)
    assert (end["step"], end["service"], end["reason"]) == ("dispatch", "fire", "confirmed")


def test_sos_right_password_cancel_cancels(rig):
    case = rig.account().signal("E100", sos="medical")
    rig.pick_up(case, PASSWORD, "cancel")
    end = rig.end(case)
    assert (end["plan"], end["step"], end["reason"]) == ("sos", "cancel", "requested")


def test_sos_wrong_password_cannot_cancel(rig):
    case = rig.account().signal("E110", sos="fire")
    rig.pick_up(case, WRONG, "cancel")
    end = rig.end(case)
    assert (end["step"], end["service"], end["reason"]) == ("dispatch", "fire", "wrong_password")


# ---- cancel from the keypad ----

def _keypad_cancel_case(rig, code, said, **fields):
    case = rig.account().signal(code, **(fields or {"zone": 1}))
    rig.advance(1_000)
    rig.signal("E406", user=1, name="owner")
    assert rig.where(step="keypad_cancel", case=case)[0]["reason"] == "recorded"
    if said is None:
        rig.advance(RING)
    else:
        rig.pick_up(case, said)
    return rig.end(case)


def test_keypad_cancel_with_right_password_cancels_burglar(rig):
    end = _keypad_cancel_case(rig, "E130", PASSWORD)
    assert (end["step"], end["reason"]) == ("cancel", "keypad_cancel")


def test_keypad_cancel_with_right_password_cancels_panic_without_asking(rig):
    end = _keypad_cancel_case(rig, "E120", PASSWORD, zone=0)
    assert (end["plan"], end["step"], end["reason"]) == ("panic", "cancel", "keypad_cancel")


def test_keypad_cancel_with_right_password_cancels_sos(rig):
    end = _keypad_cancel_case(rig, "E120", PASSWORD, zone=0, sos="police")
    assert (end["plan"], end["step"], end["reason"]) == ("sos", "cancel", "keypad_cancel")


def test_keypad_cancel_with_wrong_password_still_dispatches(rig):
    end = _keypad_cancel_case(rig, "E130", WRONG)
    assert (end["step"], end["reason"]) == ("dispatch", "wrong_password")


def test_keypad_cancel_alone_is_not_enough(rig):
    end = _keypad_cancel_case(rig, "E130", None)
    assert (end["step"], end["reason"]) == ("dispatch", "no_answer")


def test_keypad_cancel_that_overtook_its_alarm_counts(rig):
    """Resends can reorder: the plans go by seq, not arrival."""
    rig.account()
    rig.signal("E406", seq=8, user=1)
    case = rig.signal("E130", seq=7, zone=1)
    rig.pick_up(case, PASSWORD)
    assert (rig.end(case)["step"], rig.end(case)["reason"]) == ("cancel", "keypad_cancel")


# ---- the timeline records no password ----

def test_timeline_never_holds_the_password(rig, db):
    case = rig.account().signal("E130", zone=1)
    rig.pick_up(case, PASSWORD)
    raw = b""
    if rig.store.postgres:
        # Every row of every table, as the server prints it.
        for t in rig.store.q("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
            for r in rig.store.q('SELECT t::text AS row FROM "%s" t' % t["tablename"]):
                raw += r["row"].encode()
        assert b"Contact 1" in raw      # it reads what the store holds (a contact's name)
    for name in [] if rig.store.postgres else [db] + glob.glob(db + "-*"):
        with open(name, "rb") as f:
            raw += f.read()
    assert PASSWORD.encode() not in raw and PASSWORD.lower().encode() not in raw
    assert "Heron" not in repr(rig.lines)
