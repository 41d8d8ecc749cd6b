"""The four response plans and both dispatch policies, end to end: the real hub
firmware under micropython, a real mosquitto and the monitoring endpoint with
its automatic callee, driven by story files (tools/story.py)."""
import subprocess
import sys

from story_lines import codes, hub, steps
from tools import paths

# Story time is hub time: at speed 10 a hub loop step is ~100 ms of it.
SLACK = 1500


def near(t, want):
    return abs(t - want) <= SLACK, (t, want)


def test_burglar_no_answer_dispatches_police_if_no_one_cancels(story):
    out = story("burglar_if_no_one_cancels")
    assert [o["state"] for o in hub(out, "state")] == ["arming", "armed_away", "pending",
                                                       "triggered"]
    siren = hub(out, "siren", "steady")[0]
    assert near(siren["t"], 100000)                       # entry at 70 s + 30 s delay
    assert "E134" in codes(out)
    e134 = [o for o in hub(out, "signal") if o["signal"]["code"] == "E134"][0]
    assert near(e134["t"], siren["t"] + 30000)            # after the abort window
    assert [s["step"] for s in steps(out) if s["step"] != "signal"] == [
        "open", "call", "no_answer", "dispatch"]
    call, dispatch = steps(out, "call")[0], steps(out, "dispatch")[0]
    assert call["plan"] == "burglar" and call["contact"] == 1
    assert dispatch["service"] == "police" and dispatch["reason"] == "no_answer"
    assert near(dispatch["t"], call["t"] + 30000)         # the ring timeout, scaled


def test_burglar_no_answer_sends_nobody_only_if_i_say(story):
    out = story("burglar_only_if_i_say")
    assert hub(out, "siren", "steady") and "E130" in codes(out)
    assert steps(out, "no_answer") and not steps(out, "dispatch")
    hold = steps(out, "hold")[0]
    assert hold["reason"] == "no_answer" and hold["policy"] == "only_if_i_say"


def test_burglar_dispatches_when_asked_only_if_i_say(story):
    out = story(lines=[
        {"account": {"policy": "only_if_i_say"}},
        {"t": 0, "command": {"action": "ARM_AWAY", "code": "1234"}},
        {"t": 61000, "callee": {"contact": 1, "answer": True, "password": "blue heron",
                                "request": "dispatch"}},
        {"t": 62000, "zone": "living_glass", "event": "glass_break"},
        {"t": 62000, "until": 100000}])
    assert hub(out, "state", "armed_away") and "E130" in codes(out)
    assert [s["step"] for s in steps(out) if s["step"] != "signal"] == [
        "open", "call", "answered", "password", "request", "dispatch"]
    assert steps(out, "password")[0]["result"] == "right"
    assert steps(out, "dispatch")[0]["reason"] == "requested"


def test_burglar_right_password_cancels(story):
    out = story("burglar_owner_cancels")
    assert "E130" in codes(out)
    assert steps(out, "cancel")[0]["reason"] == "requested" and not steps(out, "dispatch")


def test_panic_wrong_password_dispatches_police(story):
    out = story("panic")
    assert hub(out, "siren", "steady") and "E120" in codes(out)
    assert steps(out, "open")[0]["plan"] == "panic"
    assert steps(out, "password")[0]["result"] == "wrong"
    d = steps(out, "dispatch")[0]
    assert (d["service"], d["reason"]) == ("police", "wrong_password")


def test_a_short_hold_is_no_panic(story):
    out = story(lines=[{"t": 1000, "hold": ["*", "#"], "ms": 1000}, {"t": 1000, "until": 6000}])
    assert not hub(out, "signal") and not steps(out)


def test_duress_is_silent_and_dispatches_at_once(story):
    out = story("duress")
    disarm = hub(out, "state", "disarmed")[0]
    assert "E121" in codes(out) and "E406" not in codes(out)
    assert not hub(out, "siren", "steady") and hub(out, "keypad", "ok")[-1]["t"] >= disarm["t"]
    assert [s["step"] for s in steps(out)] == ["open", "dispatch"]     # no call, no cancel
    d = steps(out, "dispatch")[0]
    assert d["plan"] == "duress" and d["reason"] == "duress" and d["service"] == "police"
    assert near(d["t"], disarm["t"])


def test_sos_fire_from_the_app_is_signed_and_dispatches_fire(story):
    out = story("sos_fire")
    sig = hub(out, "signal")[0]["signal"]
    assert sig["code"] == "E110" and sig["sos"] == "fire"
    assert hub(out, "siren", "temporal3")
    d = steps(out, "dispatch")[0]
    assert (d["plan"], d["service"], d["reason"]) == ("sos", "fire", "confirmed")


def test_sos_no_answer_dispatches_the_service_asked_for(story):
    out = story(lines=[{"t": 0, "command": {"action": "SOS", "service": "medical"}},
                       {"t": 0, "until": 40000}])
    assert "E100" in codes(out)
    d = steps(out, "dispatch")[0]
    assert (d["plan"], d["service"], d["reason"]) == ("sos", "medical", "no_answer")


def test_a_bad_story_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t": 0, "zone": "cellar_door", "event": "open"}\n')
    done = subprocess.run([sys.executable, "-m", "tools.story", str(bad)], cwd=paths.ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "cellar_door" in done.stderr and done.stdout == ""
