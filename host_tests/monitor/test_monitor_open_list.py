"""Nothing joins unseen (response-plans.md, "Across cases of one hub"): which
alarm joins which case, the operator's open list that keeps every case until
an operator closes it, updates marked new until acknowledged, and what the
owner's app may say an SOS will do. On the engine in-process, fake clock."""
import pytest

from engine_rig import Rig
from monitor import queue
from monitor.cases import Refused
from monitor.web import views

pytestmark = pytest.mark.fast

RING = 30_000
HOLD = 300_000
WINDOW = 1_800_000
ACK = 120_000


@pytest.fixture
def rig(db):
    return Rig(db, ring_ms=RING, hold_ms=HOLD, follow_up_ms=WINDOW, ack_ms=ACK)


def listed(rig):
    return [(c["id"], c["status"], c["needs_ack"], c["update_ms"] is not None)
            for c in queue.open_cases(rig.store)]


def dispatched_burglary(rig):
    case = rig.signal("E130", zone=1)
    rig.advance(RING)                                 # nobody answers: police sent
    assert rig.end(case)["step"] == "dispatch"
    rig.act(lambda desk: desk.operator_acknowledge(case, operator="ann"))
    return case


# ---- which alarm joins which case ----

def test_within_the_window_an_alarm_for_the_same_service_joins_as_news(rig):
    rig.account()
    rig.account("hub-2")
    burglary = dispatched_burglary(rig)
    rig.advance(6 * 60_000)
    other = rig.signal("E120", hub="hub-2")           # more urgent by plan, and newer
    rig.act(lambda desk: desk.operator_acknowledge(other, operator="bo"))
    sos = rig.signal("E120", sos="police", name="app")
    assert sos == burglary and len(rig.phones.placed_calls) == 2      # no second round
    update = rig.where(case=burglary, step="update")[-1]
    assert (update["service"], update["reason"], update["code"]) == \
        ("police", "after_dispatch", "E120")
    # The update needs a person: marked, and at the top of the list.
    assert listed(rig)[0] == (burglary, "dispatched", True, True)
    assert len(rig.dispatches()) == 1


@pytest.mark.parametrize("code, sos", [("E110", "fire"), ("E100", "medical")])
def test_a_fire_or_medical_alarm_after_a_police_dispatch_is_a_case_of_its_own(rig, code, sos):
    rig.account()
    burglary = dispatched_burglary(rig)
    own = rig.signal(code, sos=sos)
    assert own != burglary and rig.ringing(own)
    assert rig.case(own)["service"] == sos
    assert not rig.where(case=burglary, step="update")


@pytest.mark.parametrize("code, sos", [("E110", "fire"), ("E100", "medical")])
def test_under_duress_fire_or_medical_joins_and_is_dispatched_at_once_without_a_call(
        rig, code, sos):
    rig.account()
    duress = rig.signal("E121", user=9)
    rig.advance(60_000)
    assert rig.signal(code, sos=sos) == duress
    sent = rig.where(case=duress, step="dispatch")
    assert [(l["service"], l["reason"]) for l in sent] == [("police", "duress"), (sos, "duress")]
    assert rig.phones.placed_calls == []
    rig.signal(code, sos=sos)                         # the same service is not sent twice
    assert len(rig.where(case=duress, step="dispatch")) == 2
    assert [l["service"] for l in rig.where(case=duress, step="update")] == [sos, sos]


def test_an_open_fire_alarm_taken_in_by_duress_is_still_dispatched(rig):
    rig.account()
    fire = rig.signal("E110", sos="fire")
    assert rig.ringing(fire)
    duress = rig.signal("E121", user=9)
    assert rig.case(fire)["status"] == "closed" and rig.ringing(fire) is None
    sent = rig.where(case=duress, step="dispatch")
    assert [(l["service"], l["reason"]) for l in sent] == [("police", "duress"), ("fire", "duress")]


def test_under_duress_a_police_alarm_joins_without_a_second_dispatch(rig):
    rig.account()
    duress = rig.signal("E121", user=9)
    assert rig.signal("E120", sos="police", name="app") == duress
    assert [l["service"] for l in rig.where(case=duress, step="dispatch")] == ["police"]
    assert listed(rig) == [(duress, "dispatched", True, True)]


# ---- the open list ----

def test_a_case_stays_on_the_open_list_with_what_was_done_until_an_operator_closes_it(rig):
    rig.account()
    burglary = dispatched_burglary(rig)
    sent_at = rig.clock.t
    assert listed(rig) == [(burglary, "dispatched", False, False)]
    row = views.queue(rig.store, rig.clock.t)["cases"][0]
    assert row["done"] == [{"what": "police sent", "t": sent_at}]
    assert "not closed" in row["next"]
    rig.advance(WINDOW + 1)                           # past the window: still listed
    assert [c["id"] for c in queue.open_cases(rig.store)] == [burglary]
    rig.act(lambda desk: desk.operator_close(burglary, operator="ann"))
    assert queue.open_cases(rig.store) == []
    assert rig.where(case=burglary, step="close")[-1]["operator"] == "ann"


def test_a_cancelled_case_stays_listed_until_closed_too(rig):
    rig.account()
    case = rig.signal("E130", zone=1)
    rig.pick_up(case)                                 # the right password: cancelled
    assert rig.case(case)["status"] == "cancelled"
    assert [c["id"] for c in queue.open_cases(rig.store)] == [case]
    assert views.queue(rig.store, rig.clock.t)["cases"][0]["done"][0]["what"] == "cancelled"
    rig.act(lambda desk: desk.operator_close(case, operator="ann"))
    assert queue.open_cases(rig.store) == []
    with pytest.raises(Refused):
        rig.act(lambda desk: desk.operator_close(case, operator="ann"))


def test_an_open_case_is_not_closed_before_it_is_dispatched_or_cancelled(rig):
    rig.account()
    case = rig.signal("E130", zone=1)
    with pytest.raises(Refused, match="dispatch or cancel"):
        rig.act(lambda desk: desk.operator_close(case, operator="ann"))


def test_a_duress_row_offers_no_contact_to_call(rig):
    rig.account()
    duress = rig.signal("E121", user=9)
    seen = views.case(rig.store, duress, rig.clock.t)
    assert seen["contact_to_call"] is None
    assert "Do not call" in seen["next"]


# ---- acknowledge, and overdue when nobody does ----

def test_acknowledging_names_who_and_when_and_clears_the_mark(rig):
    rig.account()
    case = rig.signal("E130", zone=1)
    assert listed(rig) == [(case, "open", True, False)]
    rig.advance(5_000)
    rig.act(lambda desk: desk.operator_acknowledge(case, operator="ann"))
    ack = rig.where(case=case, step="acknowledge")
    assert [(l["operator"], l["t"]) for l in ack] == [("ann", rig.clock.t)]
    assert listed(rig) == [(case, "open", False, False)]
    with pytest.raises(Refused, match="nothing new"):
        rig.act(lambda desk: desk.operator_acknowledge(case, operator="bo"))


def test_an_unacknowledged_case_becomes_overdue(rig):
    rig.account("hub-2")
    rig.account(policy="only_if_i_say")
    case = rig.signal("E130", zone=1)
    rig.advance(ACK - 1)
    assert not rig.where(step="overdue")
    rig.advance(1)
    assert [(l["case"], l["reason"]) for l in rig.where(step="overdue")] == \
        [(case, "not_acknowledged")]
    assert queue.open_cases(rig.store)[0]["overdue"]
    rig.act(lambda desk: desk.operator_acknowledge(case, operator="ann"))
    assert not rig.case(case)["overdue"]
    rig.advance(ACK * 10)
    # Held since RING (nobody answered, "Only if I say"): now overdue by the hold time.
    assert [l["reason"] for l in rig.where(step="overdue")] == ["not_acknowledged", "hold_time"]


def test_an_unacknowledged_update_becomes_overdue(rig):
    rig.account()
    burglary = dispatched_burglary(rig)
    rig.advance(60_000)
    rig.signal("E130", zone=2)
    rig.advance(ACK - 1)
    assert not rig.where(step="overdue")
    rig.advance(1)
    assert [(l["case"], l["reason"]) for l in rig.where(step="overdue")] == \
        [(burglary, "not_acknowledged")]
    top = queue.open_cases(rig.store)[0]
    assert (top["id"], top["overdue"], top["needs_ack"]) == (burglary, True, True)


# ---- what the owner's app may say an SOS does ----

def outlook(rig, service, hub="hub-1"):
    return rig.act(lambda desk: desk.alarm_outlook(hub, "sos", service))


def test_what_an_sos_will_do_is_what_the_engine_then_does(rig):
    rig.account()
    assert outlook(rig, "police") == {"joins": None, "calls": True}
    burglary = dispatched_burglary(rig)
    sent_at = rig.clock.t
    rig.advance(60_000)
    assert outlook(rig, "police") == {"joins": "dispatched", "service": "police",
                                      "sent_ms": sent_at, "calls": False}
    assert outlook(rig, "fire") == {"joins": None, "calls": True}
    assert rig.signal("E120", sos="police", name="app") == burglary
    fire = rig.signal("E110", sos="fire", name="app")
    assert outlook(rig, "fire") == {"joins": "open", "service": "fire", "calls": True}
    assert rig.signal("E110", sos="fire", name="app") == fire


def test_under_duress_the_outlook_says_only_who_is_on_the_way(rig):
    rig.account()
    rig.signal("E121", user=9)
    for service in ("police", "fire", "medical"):
        assert outlook(rig, service) == {"joins": "duress", "service": service, "calls": False}


def test_the_apps_words_for_each_outlook():
    from monitor.web.owner_case import sos_said
    wall = lambda ms: ms + 1                                  # noqa: E731
    assert sos_said({"joins": None, "calls": True}, "police", wall) == \
        {"said": "Help requested: the police. The monitoring center will call you."}
    assert sos_said({"joins": None, "calls": False}, "medical", wall) == \
        {"said": "Help requested: an ambulance is being sent."}
    assert sos_said({"joins": "dispatched", "service": "fire", "sent_ms": 5, "calls": False},
                    "fire", wall) == \
        {"said": "Added to the open fire case \u2014 the fire brigade was already sent at "
                 "{time}.", "sent_ms": 6}
    assert sos_said({"joins": "open", "service": "police", "calls": True}, "police", wall) == \
        {"said": "Added to the police alarm already open: the monitoring center is calling you."}
    # Under duress: who is on the way, as for any hub that sent them; no call promised.
    for service, said in (("police", "the police are on their way"),
                          ("fire", "the fire brigade is on its way"),
                          ("medical", "an ambulance is on its way")):
        assert sos_said({"joins": "duress", "service": service, "calls": False}, service,
                        wall) == {"said": "Help requested: %s." % said}
