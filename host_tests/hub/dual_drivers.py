# Keypad scanner, pattern outputs and wired inputs against fake pins.
from fakes import FakePin, Matrix
from drivers.keypad_scan import KeypadScanner
from drivers.outputs import PatternOutput, SIREN, SIREN_ONCE, BUZZER, BUZZER_ONCE
from drivers.inputs import WiredInputs


def scan(kp, n):
    events = []
    for _ in range(n):
        events.extend(kp.poll())
    return events


def test_a_key_press_needs_stable_scans():
    m = Matrix()
    kp = KeypadScanner(m.rows, m.cols, m.KEYS)
    m.press("5")
    assert scan(kp, 2) == []              # bounce: not yet
    assert scan(kp, 1) == [("press", "5")]
    assert scan(kp, 5) == []              # held: reported once
    m.press("")
    assert scan(kp, 3) == [("release",)]


def test_bounce_shorter_than_debounce_is_ignored():
    m = Matrix()
    kp = KeypadScanner(m.rows, m.cols, m.KEYS)
    for _ in range(5):
        m.press("1")
        scan(kp, 1)
        m.press("")
        scan(kp, 1)
    assert scan(kp, 3) == []


def test_two_keys_together_are_a_hold():
    m = Matrix()
    kp = KeypadScanner(m.rows, m.cols, m.KEYS)
    m.press("*")
    assert scan(kp, 3) == [("press", "*")]
    m.press("*#")
    assert scan(kp, 3) == [("press", "#"), ("hold", "*#")]
    m.press("")
    assert scan(kp, 3) == [("release",)]


def test_every_key_of_the_matrix():
    m = Matrix()
    kp = KeypadScanner(m.rows, m.cols, m.KEYS)
    got = ""
    for k in "0123456789ABCD*#":
        m.press(k)
        for e in scan(kp, 3):
            if e[0] == "press":
                got += e[1]
        m.press("")
        scan(kp, 3)
    assert got == "0123456789ABCD*#"


def levels(out, pin, start, stop, step=50):
    seen = []
    for t in range(start, stop, step):
        out.update(t)
        seen.append(pin.level)
    return seen


def test_temporal3_pattern():
    pin = FakePin(0)
    siren = PatternOutput(pin, SIREN, SIREN_ONCE)
    siren.play("temporal3", 0)
    got = levels(siren, pin, 0, 4000, 250)
    # on .5, off .5, on .5, off .5, on .5, off 1.5: then again
    assert got == [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]


def test_steady_and_off_and_active_low():
    pin = FakePin(0)
    siren = PatternOutput(pin, SIREN, SIREN_ONCE, active_high=False)
    assert pin.level == 1                 # off, active low
    siren.play("steady", 0)
    assert levels(siren, pin, 0, 2000, 500) == [0, 0, 0, 0]
    siren.play("off", 2000)
    assert pin.level == 1


def test_a_chirp_plays_once_then_the_pattern_resumes():
    pin = FakePin(0)
    buzzer = PatternOutput(pin, BUZZER, BUZZER_ONCE)
    buzzer.play("entry", 0)
    buzzer.play("click", 100)
    assert pin.level == 1
    buzzer.update(115)                    # click over, entry resumes from its start
    assert buzzer._oneshot is None
    assert levels(buzzer, pin, 115, 615, 125) == [1, 1, 0, 0]


def test_wired_zone_settles_before_it_counts():
    loop = FakePin(0)
    w = WiredInputs([("garage_door", loop)])
    assert w.poll(0) == [] and w.poll(60) == []      # closed at boot: nothing to say
    loop.level = 1
    assert w.poll(100) == []
    assert w.poll(120) == []                         # 20 ms: not settled yet
    assert w.poll(160) == [("garage_door", "open")]
    loop.level = 0
    w.poll(200)
    loop.level = 1                                   # a 10 ms glitch
    w.poll(210)
    assert w.poll(400) == []
    loop.level = 0
    w.poll(500)
    assert w.poll(560) == [("garage_door", "close")]


def test_a_loop_open_at_boot_is_reported():
    loop = FakePin(1)
    w = WiredInputs([("garage_door", loop)])
    w.poll(0)
    assert w.poll(60) == [("garage_door", "open")]
