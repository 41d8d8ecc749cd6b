"""Forced to disarm after a reported burglary, on the fake clock: what the
owner's app shows of the hub stays what the owner's code would have shown, at
every moment after, while the duress case stands and police are sent. Two hubs
run the same story at the same clock times, one with the owner's code, one
with the duress code (the firmware's signals for it: E406 where the owner's
code cancels, E121 in its place); only the cases' numbers differ."""
import json
import os

import pytest

from engine_rig import Rig
from monitor.web import owner_case

WALL = (lambda ms: ms)           # the fake clock is the wall clock


@pytest.fixture(params=[False, True], ids=["first_contact", "call_next_contacts"])
def rig(db, request):
    r = Rig(db)
    for hub in ("plain", "forced"):
        r.account(hub, call_next_contacts=request.param)
    return r


def story(rig, hub, duress):
    rig.signal("R401", hub, user=1, name="owner", mode="away")
    rig.signal("E134", hub, zone=1, name="front_door")
    rig.signal("E121" if duress else "E406", hub, user=9 if duress else 1, name="owner")
    rig.signal("E401", hub, user=9 if duress else 1, name="owner")


def phone(rig, hub):
    now = rig.clock.now_ms()
    alarm = owner_case.alarm_view(rig.store, hub, now)
    if alarm:
        alarm.pop("id")
    return {"alarm": alarm, "history": owner_case.history(rig.store, hub, WALL, now)}


def test_the_app_tells_the_ordinary_story_until_the_calls_ring_out(rig):
    story(rig, "plain", duress=False)
    story(rig, "forced", duress=True)
    duress = rig.store.one("SELECT * FROM cases WHERE hub = 'forced' AND plan = 'duress'")
    assert duress["status"] == "dispatched"
    seen = []
    for _ in range(8):                   # through both rings (30 s each) and well after
        plain, forced = phone(rig, "plain"), phone(rig, "forced")
        assert forced == plain, (rig.clock.now_ms(), plain, forced)
        seen.append(plain["alarm"]["calling"] if plain["alarm"] else plain["history"][0]["text"])
        rig.advance(10_000)
    assert seen[0] == "ringing" and seen[-1] == "Police sent (nobody answered)", seen
    # The forced hub's only call is the one the burglary placed before the disarm.
    assert len([c for c in rig.phones.placed_calls if c["hub"] == "forced"]) == 1
    assert rig.case(duress["id"])["closed_ms"] is None


def test_confirm_in_the_app_answers_alike_and_sends_nothing_twice(rig):
    story(rig, "plain", duress=False)
    story(rig, "forced", duress=True)
    rig.advance(5_000)
    answers = [rig.act(owner_case.confirm_fn(hub)) for hub in ("plain", "forced")]
    for a in answers:
        a.pop("case")
    assert answers[0] == answers[1] == {"dispatched": True, "service": "police"}
    assert phone(rig, "forced") == phone(rig, "plain")
    assert phone(rig, "plain")["history"][0]["text"] == \
        "Police sent (confirmed in the owner's app)"
    duress = rig.store.one("SELECT id FROM cases WHERE hub = 'forced' AND plan = 'duress'")["id"]
    assert ("app", "ignored_duress") in rig.steps(duress)
    assert rig.store.one("SELECT COUNT(*) AS n FROM dispatches WHERE case_id IN "
                         "(SELECT id FROM cases WHERE hub = 'forced')")["n"] == 1


def _sent(scenario):
    """The signals the firmware sends in a scenario, from its expected output."""
    path = os.path.join(os.path.dirname(__file__), "..", "scenarios", scenario + ".expected.jsonl")
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return [line["signal"] for line in lines if "signal" in line]


def _send(rig, hub, sig):
    fields = {k: v for k, v in sig.items() if k not in ("code", "event", "qualifier")}
    rig.signal(sig["code"], hub, **fields)


def test_a_duress_disarm_in_the_abort_window_tells_the_apps_abort_story(rig):
    # The owner's code aborts the burglary in its window and the hub sends
    # nothing for it; the duress code sends E121, then the burglary it released,
    # then the opening (host_tests/scenarios: abort_window, duress_in_abort_window).
    plain, forced = _sent("abort_window"), _sent("duress_in_abort_window")
    assert [s["code"] for s in plain] == ["R401"]
    assert [s["code"] for s in forced][:1] == ["R401"]
    _send(rig, "plain", plain[0])
    _send(rig, "forced", forced[0])
    rig.advance(150_000)
    # The app may poll between any two of the burst's signals.
    for sig in forced[1:]:
        _send(rig, "forced", sig)
        assert phone(rig, "forced") == phone(rig, "plain"), sig["code"]
    for _ in range(8):
        rig.advance(40_000)
        assert phone(rig, "forced") == phone(rig, "plain"), rig.clock.now_ms()
    assert phone(rig, "plain") == {"alarm": None, "history": [
        {"t": phone(rig, "plain")["history"][0]["t"], "text": "Armed by owner",
         "code": "R401"}]}
    # The monitoring center got it all and acts: police at once, the burglary
    # on the duress case for the operator, and no call rings at the house.
    duress = rig.store.one("SELECT * FROM cases WHERE hub = 'forced' AND plan = 'duress'")
    assert duress["status"] == "dispatched" and duress["closed_ms"] is None
    updates = rig.store.q("SELECT detail FROM timeline WHERE case_id = ? AND step = 'update'",
                          duress["id"])
    assert "E130" in [json.loads(u["detail"]).get("code") for u in updates]
    assert rig.phones.placed_calls == []
    assert rig.store.one("SELECT COUNT(*) AS n FROM cases WHERE hub = 'forced'")["n"] == 1


def test_a_panic_in_the_abort_window_then_a_duress_disarm_tells_the_cancel_story(rig):
    # The panic went out at once, so the owner's code cancels it (E406) and
    # opens (E401); the duress code sends E121 in the cancel's place, releases
    # the held burglary and opens: the app shows the cancel and the opening.
    plain = _sent("panic_in_abort_window")
    assert [s["code"] for s in plain] == ["R401", "E120", "E406", "E401"]
    burst = [dict(plain[2], code="E121", user=9), {"code": "E130", "zone": 3},
             {"code": "E459", "zone": 3}, dict(plain[3], user=9)]
    for sig in plain[:2]:
        _send(rig, "plain", sig)
        _send(rig, "forced", sig)
    rig.advance(5_000)
    for sig in plain[2:]:
        _send(rig, "plain", sig)
    for sig in burst:
        _send(rig, "forced", dict(sig, seq=None))
    for _ in range(8):
        assert phone(rig, "forced") == phone(rig, "plain"), rig.clock.now_ms()
        rig.advance(10_000)
    texts = [x["text"] for x in phone(rig, "plain")["history"]]
    assert "Keypad cancel by owner" in texts and "Disarmed by owner" in texts, texts
