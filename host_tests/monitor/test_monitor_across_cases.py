"""The cases an operator would object to (response-plans.md, "Across cases of
one hub"), on the engine in-process with a fake clock."""
import pytest

from desk_helpers import PASSWORD
from engine_rig import Rig
from monitor import outbox, queue, timeline
from monitor.cases import Refused

pytestmark = pytest.mark.fast

RING = 30_000
HOLD = 300_000
WINDOW = 1_800_000


@pytest.fixture
def rig(db):
    return Rig(db, ring_ms=RING, hold_ms=HOLD, follow_up_ms=WINDOW)


# ---- duress protects the owner ----

def test_every_alarm_during_duress_joins_it_and_nobody_is_called(rig):
    rig.account()
    duress = rig.signal("E121", user=9)
    rig.advance(60_000)
    joined = [rig.signal("E130", zone=1), rig.signal("E120", zone=0),
              rig.signal("E110", sos="fire"), rig.signal("E459", zone=-1),
              rig.signal("E121", user=9)]
    assert joined == [duress] * 5
    assert rig.phones.placed_calls == []
    assert [(l["step"], l["code"]) for l in rig.where(step="update")] == [
        ("update", c) for c in ("E130", "E120", "E110", "E459", "E121")]
    assert rig.where(step="update", code="E110")[0]["service"] == "fire"
    assert rig.store.one("SELECT COUNT(*) AS n FROM cases")["n"] == 1
    rig.advance(10 * RING)
    assert [d["case_id"] for d in rig.dispatches()] == [duress]


def test_nothing_from_a_hub_under_duress_can_cancel_or_ring(rig):
    rig.account()
    trouble = rig.act(lambda desk: desk.open_case("hub-1", "trouble", reason="offline",
                                                  trouble="offline"))["id"]
    duress = rig.signal("E121", user=9)
    rig.signal("E406", user=1)
    assert rig.where(step="keypad_cancel")[0]["reason"] == "ignored_duress"
    with pytest.raises(Refused, match="duress"):
        rig.act(lambda desk: desk.call(desk.case(trouble), 1, "operator"))
    with pytest.raises(Refused):
        rig.act(lambda desk: desk.operator_cancel(duress))
    assert rig.phones.placed_calls == []


def test_after_the_duress_case_is_closed_alarms_are_handled_again(rig):
    rig.account()
    duress = rig.signal("E121", user=9)
    # Police went at once, but the case waits in the queue for a person to close it.
    standing = queue.open_cases(rig.store)
    assert [(c["id"], c["status"], c["standing"]) for c in standing] == \
        [(duress, "dispatched", True)]
    rig.act(lambda desk: desk.operator_close(duress))
    assert queue.open_cases(rig.store) == []
    case = rig.signal("E130", zone=1)
    assert case != duress and rig.ringing(case)


# ---- nothing waits forever ----

def test_a_held_case_becomes_overdue_and_goes_to_the_top_of_the_queue(rig):
    rig.account(policy="only_if_i_say")
    rig.account("hub-2")
    held = rig.signal("E130", zone=1)
    rig.advance(RING)
    assert rig.end(held)["step"] == "hold"
    assert rig.end(held)["hold_until"] == rig.clock.t + HOLD
    panic = rig.signal("E120", hub="hub-2")          # more urgent by plan
    assert [c["id"] for c in queue.open_cases(rig.store)] == [panic, held]
    rig.advance(HOLD - 1)
    assert not rig.where(step="overdue")
    rig.advance(1)
    overdue = rig.where(step="overdue")
    assert [(l["case"], l["reason"]) for l in overdue] == [(held, "hold_time")]
    top = queue.open_cases(rig.store)[0]
    assert (top["id"], top["overdue"]) == (held, True)
    rig.advance(10 * HOLD)
    assert len(rig.where(step="overdue")) == 1       # marked once, not every hold time


def test_calling_again_takes_the_case_out_of_hold(rig):
    rig.account(policy="only_if_i_say")
    held = rig.signal("E130", zone=1)
    rig.advance(RING + HOLD)
    assert rig.case(held)["overdue"]
    rig.act(lambda desk: desk.operator_call(held))
    assert not rig.case(held)["overdue"] and rig.case(held)["waiting"] == "answer"


# ---- a keypad cancel counts on open cases only ----

def test_a_closed_duress_case_collects_no_later_cancel(rig):
    rig.account()
    duress = rig.signal("E121", user=9)
    rig.act(lambda desk: desk.operator_close(duress))
    rig.advance(60_000)
    rig.signal("E406", user=1)
    assert rig.where(step="keypad_cancel") == []
    assert rig.steps(duress)[-1] == ("close", "operator")


def test_a_cancel_is_recorded_on_open_cases_only(rig):
    rig.account()
    done = rig.signal("E130", zone=1)
    rig.pick_up(done, PASSWORD)                       # cancelled
    sos = rig.signal("E110", sos="fire")
    rig.signal("E406", user=1)
    assert [l["case"] for l in rig.where(step="keypad_cancel")] == [sos]


# ---- one intrusion, one dispatch ----

def test_alarms_after_a_dispatch_are_updates_for_the_responders(rig):
    rig.account()
    case = rig.signal("E134", zone=1)
    rig.advance(RING)
    assert rig.end(case)["step"] == "dispatch"
    rig.advance(10 * 60_000)
    assert rig.signal("E130", zone=4, name="hall_motion") == case
    assert rig.signal("E459", zone=-1) == case
    assert [(l["case"], l["code"], l["reason"]) for l in rig.where(step="update")] == [
        (case, "E130", "after_dispatch"), (case, "E459", "after_dispatch")]
    assert len(rig.phones.placed_calls) == 1 and len(rig.dispatches()) == 1


def test_after_the_window_an_alarm_is_a_new_case(rig):
    rig.account()
    first = rig.signal("E130", zone=1)
    rig.advance(RING + WINDOW + 1)
    second = rig.signal("E130", zone=1)
    assert second != first and rig.ringing(second)


def test_another_service_after_a_police_dispatch_is_a_case_of_its_own(rig):
    rig.account()
    burglary = rig.signal("E130", zone=1)
    rig.advance(RING)
    fire = rig.signal("E110", sos="fire")
    assert fire != burglary and rig.ringing(fire)


def test_a_closed_dispatched_case_takes_no_updates(rig):
    rig.account()
    first = rig.signal("E130", zone=1)
    rig.advance(RING)
    rig.act(lambda desk: desk.operator_close(first))
    assert rig.signal("E130", zone=1) != first
    with pytest.raises(Refused):
        rig.act(lambda desk: desk.operator_close(first))


# ---- what is emitted comes from the store ----

def test_every_step_waits_in_the_outbox_until_delivered(rig):
    rig.account()
    case = rig.signal("E130", zone=1)
    ids = [l["id"] for l in rig.lines]
    assert [r["id"] for r in rig.store.q("SELECT id FROM outbox ORDER BY id")] == ids
    # Another process finds them only once the claim is older than the lease.
    assert outbox.claim_orphans(rig.store, rig.clock.t, lease_ms=10_000) == []
    assert outbox.claim_orphans(rig.store, rig.clock.t + 10_000, lease_ms=10_000) == ids
    assert [l["step"] for l in outbox.take(rig.store, ids)] == ["open", "call"]
    assert outbox.take(rig.store, ids) == rig.lines     # what was written, read back
    outbox.delivered(rig.store, ids)
    assert rig.store.q("SELECT id FROM outbox") == []
    assert timeline.events_since(rig.store, ids[0]) == rig.lines[1:]
    rig.advance(RING)
    assert [l["step"] for l in timeline.events_since(rig.store, ids[-1])] == \
        ["no_answer", "dispatch"]
    assert all(l["case"] == case for l in timeline.events_since(rig.store))


# ---- who did it ----

def test_every_step_an_operator_causes_names_them(rig):
    rig.account()
    case = rig.signal("E130", zone=1)
    call = rig.ringing(case)
    rig.act(lambda desk: desk.answered(call, operator="ann"))
    rig.act(lambda desk: desk.operator_password(case, False, operator="ann"))
    rig.act(lambda desk: desk.request(call, None, operator="ann"))
    assert [(l["step"], l.get("operator")) for l in rig.where(case=case)] == [
        ("open", None), ("call", None), ("answered", "ann"), ("password", "ann"),
        ("request", "ann"), ("dispatch", "ann")]
    assert rig.desk.operator is None
    second = rig.signal("E110", sos="fire")       # not police: a case of its own
    rig.act(lambda desk: desk.operator_dispatch(second, operator="bo"))
    assert rig.where(case=second, step="dispatch")[0]["operator"] == "bo"
