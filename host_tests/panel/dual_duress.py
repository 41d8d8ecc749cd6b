# The duress code must look exactly like a normal code to anyone at the door,
# and its signal can never be withdrawn.
import os
from panel.config import Config
from panel.panel import Panel

CONFIG = {
    "chirps": True,
    "zones": [
        {"number": 1, "name": "front_door", "type": "contact", "delayed": True},
        {"number": 3, "name": "living_window", "type": "contact"},
    ],
    "users": [
        {"number": 1, "name": "owner", "code": "1234", "role": "master"},
        {"number": 2, "name": "guest", "code": "5678"},
        {"number": 9, "name": "duress", "code": "9090", "role": "duress"},
    ],
}

# Situations before the code is entered: (t, action, arg).
SITUATIONS = {
    "disarmed": [],
    "arming": [(0, "keys", "1234A")],
    "entry_delay": [(0, "keys", "1234A"), (2000, "zone", "front_door"),
                    (300000, "zone", "front_door")],
    "abort_window": [(0, "keys", "1234B"), (200000, "zone", "living_window")],
    "alarm_reported": [(0, "keys", "1234B"), (200000, "zone", "living_window"),
                       (260000, "tick", None)],
}


def play(steps, code, finish="C", remote=False):
    p = Panel(Config(CONFIG, os.urandom), 0)
    out = []
    t = 0
    for t, what, arg in steps:
        p.tick(t)
        if what == "keys":
            for k in arg:
                p.press(t, k)
        elif what == "zone":
            p.zone(t, arg, "open")
        out.extend(p.take())
    t += 1000
    if remote:
        p.command(t, {"action": "DISARM", "code": code})
    else:
        for k in code + finish:
            p.press(t, k)
    out.extend(p.take())
    for later in (t + 1000, t + 400000):
        p.tick(later)
        out.extend(p.take())
    return p, out


def at_the_door(out):
    return [o for o in out if "signal" not in o and "log" not in o]


def codes_sent(out):
    return [o["signal"]["code"] for o in out if "signal" in o]


def test_duress_disarm_looks_the_same_in_every_situation():
    for name in SITUATIONS:
        for remote in (False, True):
            _, normal = play(SITUATIONS[name], "5678", remote=remote)
            _, duress = play(SITUATIONS[name], "9090", remote=remote)
            assert at_the_door(normal) == at_the_door(duress), name
            assert "E121" in codes_sent(duress), name
            assert "E121" not in codes_sent(normal), name


def test_duress_arm_looks_the_same():
    _, normal = play([], "5678", finish="A")
    _, duress = play([], "9090", finish="A")
    assert at_the_door(normal) == at_the_door(duress)
    assert "E121" in codes_sent(duress)


def test_duress_is_never_withdrawn():
    p, out = play(SITUATIONS["alarm_reported"], "9090")
    for k in "1234C":
        p.press(700000, k)
    p.command(701000, {"action": "DISARM", "code": "1234"})
    sent = codes_sent(out + p.take())
    assert "E121" in sent
    # No cancel under duress, and nothing restores the duress event.
    assert "E406" not in sent and "R121" not in sent


def test_duress_inside_abort_window_still_reports_the_burglary():
    _, out = play(SITUATIONS["abort_window"], "9090")
    sent = codes_sent(out)
    # The duress first, so the monitoring center knows the burglary it then
    # gets was released by a coerced disarm: no call goes to the house for it.
    # (E459: the burglary came soon after the arm, a recent closing.)
    assert sent == ["R401", "E121", "E130", "E459", "E401"], sent
    _, normal = play(SITUATIONS["abort_window"], "5678")
    assert "E130" not in codes_sent(normal)


def test_every_code_check_does_the_same_work():
    p = Panel(Config(CONFIG, os.urandom), 0)
    counts = []
    for code in ("1234", "5678", "9090", "0000"):
        before = p.codes.hashes_computed
        p.codes.find(code)
        counts.append(p.codes.hashes_computed - before)
    assert counts == [3, 3, 3, 3]
