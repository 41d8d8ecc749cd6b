# What Home Assistant is told about its commands: the hub's answer topic (the
# alarm panel's json_attributes_topic) says why the last one was refused, and
# says nothing once one is carried out. A remote arm with a zone open gets the
# keypad's choice: arm again within the offer to bypass it, when the config
# allows force-arming.
import json
import os
from panel.config import Config
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG
from hub.store import Store
from hub.hub import Hub
from dual_hub import tmpdir

START = (1 << 30) - 5000     # the tick counter wraps 5 s into the run
ANSWER = "alarm/hub1/answer"


class Link:
    """What the hub and Presence need of uplink.link.Link: the retained topics."""

    def __init__(self):
        self.retained = {}
        self.retained_topic = None
        self.stats = {}
        self.state = None
        self.connected = True
        self.on_command = None
        self.on_watermark = None

    def publish_retained(self, key, payload):
        self.retained[key] = payload

    def poll(self, now):
        pass

    def topic(self, name):
        for key in self.retained:
            t = key if isinstance(key, str) else self.retained_topic(key)
            if t == name:
                payload = self.retained[key]
                return payload(key) if callable(payload) else payload
        return None


class Rig:
    def __init__(self, name, **settings):
        raw = dict(DEFAULT_CONFIG)
        for k in settings:
            raw[k] = settings[k]
        self.panel = Panel(Config(raw, os.urandom), START)
        self.link = Link()
        self.logged = []
        self.hub = Hub(self.panel, Store(tmpdir(name)), link=self.link,
                       log=lambda now, item: self.logged.append(item))
        self.hub.announce("homeassistant", "alarm", "hub1", None)
        self.now = START

    def run(self, ms):
        for _ in range(ms // 10):
            self.now = (self.now + 10) & 0x3FFFFFFF
            self.hub.step(self.now)

    def send(self, action, code=None):
        # What Home Assistant's command template makes of its action and code.
        self.link.on_command({"action": action, "code": code})
        self.run(100)

    def answer(self):
        return json.loads(self.link.topic(ANSWER))

    def zone(self, name, event):
        self.panel.zone(self.now, name, event)
        self.run(100)


def test_a_refusal_is_on_the_answer_topic_and_clears_on_the_next_accepted_command():
    r = Rig("answer")
    r.run(100)
    assert r.answer() == {}              # at boot: no old refusal left on the broker
    r.send("DISARM", "0000")
    assert r.answer() == {"refused": "wrong code"}
    r.send("ARM_AWAY", "1234")
    assert r.panel.state == "arming"
    assert r.answer() == {}
    r.send("ARM_HOME")
    assert r.answer() == {"refused": "already arming: disarm first"}
    r.send("DISARM")
    assert r.answer() == {"refused": "a code is needed to disarm"}
    r.send("DISARM", "1234")
    assert r.panel.state == "disarmed" and r.answer() == {}


def test_arming_again_from_home_assistant_bypasses_the_open_zone_when_force_arming_is_allowed():
    r = Rig("force")
    r.zone("living_window", "open")
    r.send("ARM_AWAY")
    assert r.panel.state == "disarmed"
    assert r.answer() == {"refused": "not ready: living_window open "
                                     "(arm again within 10 s to bypass it)"}
    r.run(2000)                          # a person reads it and taps Arm away again
    r.send("ARM_AWAY")
    assert r.panel.state == "arming" and r.answer() == {}
    codes = [o["signal"]["code"] for o in r.logged if "signal" in o]
    assert codes == ["E570"]             # the window bypassed for this armed period


def test_the_offer_to_bypass_runs_out_and_is_not_the_keypads():
    r = Rig("offer")
    r.zone("living_window", "open")
    r.send("ARM_AWAY")
    r.run(11000)                         # past the 10 s offer: refused again, offered again
    r.send("ARM_AWAY")
    assert r.panel.state == "disarmed"
    assert r.answer()["refused"].startswith("not ready: living_window open")
    r.panel.press(r.now, "A")            # the keypad's quick arm is not Home Assistant's second try
    r.run(100)
    assert r.panel.state == "disarmed"


def test_without_force_arming_home_assistant_is_told_to_close_the_zone():
    r = Rig("noforce", force_arm=False)
    r.zone("living_window", "open")
    r.send("ARM_AWAY")
    refused = {"refused": "not ready: living_window open (force-arming is off)"}
    assert r.answer() == refused
    r.run(2000)
    r.send("ARM_AWAY")
    assert r.panel.state == "disarmed" and r.answer() == refused
    r.link.on_command({"action": "ARM_AWAY", "code": "1234", "force": True})
    r.run(100)
    assert r.panel.state == "disarmed" and r.answer() == refused
    r.zone("living_window", "close")
    r.send("ARM_AWAY")
    assert r.panel.state == "arming" and r.answer() == {}


def test_a_locked_keypad_says_how_long_it_stays_locked():
    r = Rig("locked")
    for _ in range(4):
        r.send("DISARM", "0000")
    assert r.answer() == {"refused": "wrong code"}
    r.send("DISARM", "0000")             # the fifth: the keypad locks for 90 s
    assert r.answer() == {"refused": "wrong code: keypad locked out for 1:30"}
    r.run(20000)
    r.send("DISARM", "1234")
    assert r.answer() == {"refused": "keypad locked out: 1:10 left"}
    r.run(70000)                         # the lockout is over
    r.send("DISARM", "1234")
    assert r.answer() == {}


def test_a_duress_disarm_answers_home_assistant_like_the_owners():
    def story(code):
        r = Rig("duress")
        r.send("ARM_AWAY", "1234")
        r.run(61000)
        r.send("DISARM", "0000")
        r.send("DISARM", code)
        return r.panel.state, r.link.topic(ANSWER)

    assert story("9999") == story("1234") == ("disarmed", b"{}")
