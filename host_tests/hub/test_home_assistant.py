"""The hub's Home Assistant discovery against what Home Assistant accepts, and
its command template rendered the way Home Assistant renders it and fed to the
panel.

The option names, abbreviations, device classes, features and the discovery
topic pattern below are Home Assistant's (homeassistant/components/mqtt/:
abbreviations.py, alarm_control_panel.py, binary_sensor.py, schemas.py,
discovery.py; homeassistant/components/binary_sensor BinarySensorDeviceClass;
https://www.home-assistant.io/integrations/alarm_control_panel.mqtt/ and
binary_sensor.mqtt/). Its discovery schemas drop unknown keys silently, so a
misspelt option would never show as an error there: it shows here."""
import copy
import json
import os
import re

import jinja2.sandbox
import pytest

from tools import paths

from hub import ha
from hub.presence import Presence
from panel import zones as Z
from panel.config import Config
from panel.panel import Panel
from panel.replay import Replay
from uplink.link import Link

with open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")) as f:
    DEMO = json.load(f)

# discovery.py: <prefix>/<component>/[<node_id>/]<object_id>/config
DISCOVERY_TOPIC = re.compile(r"^homeassistant/(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
                             r"(?P<object_id>[a-zA-Z0-9_-]+)/config$")
AVAILABILITY = {"availability", "availability_mode", "availability_template",
                "availability_topic", "payload_available", "payload_not_available"}
COMMON = AVAILABILITY | {"device", "enabled_by_default", "entity_category", "entity_picture",
                         "icon", "json_attributes_template", "json_attributes_topic",
                         "object_id", "default_entity_id", "unique_id", "platform", "origin",
                         "qos", "encoding"}
PANEL_OPTIONS = COMMON | {
    "supported_features", "code", "code_arm_required", "code_disarm_required",
    "code_trigger_required", "command_template", "command_topic", "name",
    "payload_arm_away", "payload_arm_home", "payload_arm_night", "payload_arm_vacation",
    "payload_arm_custom_bypass", "payload_disarm", "payload_trigger", "retain",
    "state_topic", "value_template"}
SENSOR_OPTIONS = COMMON | {"state_topic", "value_template", "device_class", "expire_after",
                           "force_update", "name", "off_delay", "payload_off", "payload_on"}
DEVICE_OPTIONS = {"configuration_url", "connections", "hw_version", "identifiers",
                  "manufacturer", "model", "model_id", "name", "serial_number",
                  "suggested_area", "sw_version", "via_device"}
SUPPORTED_FEATURES = {"arm_home", "arm_away", "arm_night", "arm_vacation",
                      "arm_custom_bypass", "trigger"}
BINARY_SENSOR_CLASSES = {
    "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
    "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving",
    "occupancy", "opening", "plug", "power", "presence", "problem", "running", "safety",
    "smoke", "sound", "tamper", "update", "vibration", "window"}
# Abbreviations the hub could use; each must stand for an option of the entity.
ABBREVIATIONS = {"avty_t": "availability_topic", "cmd_t": "command_topic",
                 "cmd_tpl": "command_template", "cod_arm_req": "code_arm_required",
                 "cod_dis_req": "code_disarm_required", "dev": "device",
                 "dev_cla": "device_class", "json_attr_t": "json_attributes_topic",
                 "off_dly": "off_delay", "stat_t": "state_topic", "sup_feat": "supported_features",
                 "uniq_id": "unique_id"}
DEVICE_ABBREVIATIONS = {"ids": "identifiers", "mf": "manufacturer", "mdl": "model",
                        "sw": "sw_version", "sa": "suggested_area", "cns": "connections"}
# A topic level the hub publishes: what Home Assistant and every broker take.
SAFE_LEVEL = re.compile(r"^[a-zA-Z0-9_-]+$")


class RetainedLink:
    """What Presence needs of the link: the retained entries, and their topics."""

    def __init__(self):
        self.retained = {}
        self.retained_topic = None

    def publish_retained(self, key, payload):
        self.retained[key] = payload

    def sent(self):
        # (topic, payload bytes) as the link would send them.
        out = []
        for key, payload in self.retained.items():
            if callable(payload):
                payload = payload(key)
            topic = key if isinstance(key, str) else self.retained_topic(key)
            out.append((topic, payload))
        return out


def discovery(config):
    cfg = Config(config, os.urandom)
    link = RetainedLink()
    Presence(link, cfg.zones, "homeassistant", "alarm", config["hub_id"])
    return link.sent()


def awkward():
    """The demo house with the zone names people really give: spaces, + and #,
    accents, and two names that slug alike."""
    cfg = copy.deepcopy(DEMO)
    names = ["Front door", "Back door +", "#1 window", "Küche Bewegung", "living/glass",
             "Panic  button", "Garage door", "garage-door"]
    for z, name in zip(cfg["zones"], names):
        z["name"] = name
    return cfg


def expand(obj, table):
    return {table.get(k, k): v for k, v in obj.items()}


@pytest.mark.parametrize("config", [DEMO, awkward()], ids=["demo", "awkward_names"])
def test_discovery_is_what_home_assistant_accepts(config):
    sent = discovery(config)
    topics = [t for t, _ in sent]
    assert len(set(topics)) == len(topics)
    for topic in topics:
        levels = topic.split("/")
        assert all(SAFE_LEVEL.match(level) for level in levels), topic
    link = Link(None, config["hub_id"], b"k" * 16, "broker", prefix="alarm", mqtt=object())
    published = set(topics) | {link.t_state, link.t_avail}
    panels = sensors = 0
    unique = set()
    for topic, payload in sent:
        if not topic.startswith("homeassistant/"):
            continue
        m = DISCOVERY_TOPIC.match(topic)
        assert m, topic
        assert m.group("node_id") == config["hub_id"]
        cfg = expand(json.loads(payload), ABBREVIATIONS)
        device = expand(cfg["device"], DEVICE_ABBREVIATIONS)
        assert set(device) <= DEVICE_OPTIONS, set(device) - DEVICE_OPTIONS
        assert device["identifiers"] == [config["hub_id"]]
        assert cfg["unique_id"] not in unique
        unique.add(cfg["unique_id"])
        assert cfg["qos"] == 1
        assert cfg["availability_topic"] == link.t_avail
        if m.group("component") == "alarm_control_panel":
            panels += 1
            assert set(cfg) <= PANEL_OPTIONS, set(cfg) - PANEL_OPTIONS
            assert set(cfg["supported_features"]) <= SUPPORTED_FEATURES
            assert cfg["code"] == "REMOTE_CODE"
            assert cfg["command_topic"] == link.t_commands
            assert cfg["state_topic"] in published
        else:
            assert m.group("component") == "binary_sensor"
            sensors += 1
            assert set(cfg) <= SENSOR_OPTIONS, set(cfg) - SENSOR_OPTIONS
            assert cfg["device_class"] in BINARY_SENSOR_CLASSES
            assert cfg["state_topic"] in published, cfg["state_topic"]
            assert cfg["json_attributes_topic"].startswith(cfg["state_topic"])
    assert panels == 1 and sensors == len(config["zones"])


def test_zone_names_stay_display_names():
    sent = dict(discovery(awkward()))
    names = sorted(json.loads(p)["name"] for t, p in sent.items()
                   if t.startswith("homeassistant/binary_sensor/"))
    assert "Back door +" in names and "Küche Bewegung" in names
    levels = sorted(t.split("/")[3] for t in sent if t.startswith("homeassistant/binary_sensor/"))
    assert levels == sorted(["front_door", "back_door", "1_window", "k_che_bewegung",
                             "living_glass", "panic_button", "garage_door",
                             "garage_door_8"]), levels


def render(action, code):
    """The command payload as Home Assistant builds it (MqttCommandTemplate:
    its sandboxed Jinja2 environment, variables action and code)."""
    panel_cfg = json.loads(ha.panel_config("alarm/hub", "hub"))
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    return env.from_string(panel_cfg["command_template"]).render(action=action, code=code)


def panel(code_to_arm):
    cfg = copy.deepcopy(DEMO)
    cfg["code_to_arm"] = code_to_arm
    p = Panel(Config(cfg, os.urandom), 0)
    p.take()
    return p


# (action, code, code_to_arm) -> the state it leads to, and whether it counts
# as a wrong code. Home Assistant sends a code-less arm when
# code_arm_required is false; a disarm always carries one (REMOTE_CODE).
CASES = [
    ("ARM_AWAY", None, False, "arming", False),
    ("ARM_HOME", None, False, "arming", False),
    ("ARM_AWAY", None, True, "disarmed", False),
    ("ARM_HOME", None, True, "disarmed", False),
    ("ARM_AWAY", "1234", False, "arming", False),
    ("ARM_HOME", "1234", True, "arming", False),
    ("ARM_AWAY", "0000", False, "disarmed", True),
    ("ARM_HOME", "", True, "disarmed", False),
    ("DISARM", "1234", False, "disarmed", False),
    ("DISARM", "0000", False, "disarmed", True),
    ("DISARM", None, False, "disarmed", False),
]


@pytest.mark.parametrize("action,code,code_to_arm,state,wrong", CASES)
def test_home_assistant_commands_reach_the_panel_as_meant(action, code, code_to_arm, state,
                                                          wrong):
    payload = render(action, code)
    cmd = json.loads(payload)
    assert cmd["action"] == action
    assert cmd["code"] == (code if code is not None else None)
    p = panel(code_to_arm)
    p.command(1000, cmd)
    outs = p.take()
    codes = [o["signal"]["code"] for o in outs if "signal" in o]
    assert ("E461" in codes) == wrong, (payload, outs)
    states = [o["state"] for o in outs if "state" in o]
    assert (states[-1] if states else "disarmed") == state, (payload, outs)


def run_story(disarm, at=510000):
    """Arm with the owner's code, come in, disarm at `at` (`disarm`: a replay
    line without its t): what the hub puts out, line by line."""
    out = []
    r = Replay(lambda text: out.append(json.loads(text)), os.urandom)
    story = [{"t": 0, "keys": "1234A"},
             {"t": 2000, "zone": "front_door", "event": "open"},
             {"t": 4000, "zone": "front_door", "event": "close"},
             {"t": 500000, "zone": "front_door", "event": "open"},
             dict(disarm, t=at), {"t": 520000, "zone": "front_door", "event": "close"},
             {"t": 700000, "until": 700000}]
    for line in [{"config": DEMO}] + sorted(story, key=lambda line: line["t"]):
        r.feed(json.dumps(line))
    assert r.errors == 0, out
    return out


@pytest.mark.parametrize("how", ["keypad", "home_assistant"])
def test_a_duress_disarm_looks_like_the_owners_disarm_to_home_assistant_and_the_house(how):
    # What Home Assistant reads (the state topic, the zones: the broker's ACL
    # keeps events and status from it) and what a person at the house sees and
    # hears (keypad, buzzer, siren) are the same line for line; only the
    # signals for the monitoring center differ, by the E121.
    def disarm(code):
        if how == "keypad":
            return {"keys": code + "C"}
        return {"command": json.loads(render("DISARM", code))}

    plain, forced = run_story(disarm("1234")), run_story(disarm("9999"))
    assert [o for o in forced if "signal" not in o] == [o for o in plain if "signal" not in o]
    assert ("state", "disarmed") in [(k, o[k]) for o in plain for k in o]

    def codes(out):
        return [o["signal"]["code"] for o in out if "signal" in o]
    assert codes(plain) == ["R401", "E401"]
    assert codes(forced) == ["R401", "E121", "E401"]


@pytest.mark.parametrize("how", ["keypad", "home_assistant"])
def test_a_duress_disarm_after_a_reported_burglary_looks_like_the_owners_to_home_assistant(
        how):
    # The entry delay ran out and the burglary went out before the disarm: the
    # owner's code then sends a cancel (E406), the duress code E121 instead; to
    # Home Assistant and the house the two stay the same line for line.
    def disarm(code):
        if how == "keypad":
            return {"keys": code + "C"}
        return {"command": json.loads(render("DISARM", code))}

    plain, forced = run_story(disarm("1234"), 650000), run_story(disarm("9999"), 650000)
    assert [o for o in forced if "signal" not in o] == [o for o in plain if "signal" not in o]
    states = [o["state"] for o in plain if "state" in o]
    assert states[-2:] == ["triggered", "disarmed"], states

    def codes(out):
        return [o["signal"]["code"] for o in out if "signal" in o]
    assert codes(plain) == ["R401", "E134", "E406", "E401"]
    assert codes(forced) == ["R401", "E134", "E121", "E401"]


@pytest.mark.parametrize("how", ["keypad", "home_assistant"])
def test_a_duress_disarm_in_the_abort_window_looks_like_the_owners_abort_to_home_assistant(
        how):
    # The entry delay ran out (530 s) and the burglary waits out its abort
    # window (to 560 s): the owner's code aborts it and sends nothing, the
    # duress code sends E121 first and then releases it. Home Assistant and the
    # house see the same lines; only the hub's own log tells the abort.
    def disarm(code):
        if how == "keypad":
            return {"keys": code + "C"}
        return {"command": json.loads(render("DISARM", code))}

    plain, forced = run_story(disarm("1234"), 545000), run_story(disarm("9999"), 545000)

    def seen(out):
        return [o for o in out if "signal" not in o and "log" not in o]
    assert seen(forced) == seen(plain)
    states = [o["state"] for o in plain if "state" in o]
    assert states[-2:] == ["triggered", "disarmed"], states

    def codes(out):
        return [o["signal"]["code"] for o in out if "signal" in o]
    assert codes(plain) == ["R401"]
    assert codes(forced) == ["R401", "E121", "E134", "E401"]


def test_the_device_carries_the_firmware_version():
    from hub.version import VERSION
    assert re.match(r"^\d+\.\d+\.\d+$", VERSION)
    for topic, payload in discovery(DEMO):
        if topic.startswith("homeassistant/"):
            assert json.loads(payload)["device"]["sw_version"] == VERSION, topic
    import tomllib
    with open(os.path.join(paths.ROOT, "pyproject.toml"), "rb") as f:
        assert tomllib.load(f)["project"]["version"] == VERSION    # one release, one number


def attributes(payload):
    """The panel's attributes as Home Assistant sets them from its
    json_attributes_topic (mqtt/mixins.py MqttAttributesMixin): a JSON object
    replaces them all; anything else is ignored."""
    value = json.loads(payload)
    assert isinstance(value, dict)
    return value


def show(attrs, template):
    """A template a person writes in Home Assistant (a card, a notification),
    rendered with state_attr() over the panel's attributes."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    env.globals["state_attr"] = lambda entity, name: attrs.get(name)
    return env.from_string(template).render()


class AnswerLink(RetainedLink):
    stats = {}
    connected = True
    state = None
    on_command = None
    on_watermark = None

    def poll(self, now):
        pass

    def topic(self, name):
        return dict(self.sent())[name]


def ha_hub(tmp_path, **settings):
    """The demo hub with its discovery and answer topics, commands as Home
    Assistant renders them."""
    from hub.hub import Hub
    from hub.store import Store
    raw = copy.deepcopy(DEMO)
    raw.update(settings)
    p = Panel(Config(raw, os.urandom), 0)
    link = AnswerLink()
    hub = Hub(p, Store(str(tmp_path)), link=link, log=lambda now, item: None)
    hub.announce("homeassistant", "alarm", raw["hub_id"], None)
    cfg = json.loads(link.topic(ha.panel_topic("homeassistant", raw["hub_id"])))
    clock = [0]

    def send(action, code=None, after_ms=2000):
        # A person's pace: a tap, a look at the answer, the next tap.
        hub.command(json.loads(render(action, code)))
        for _ in range(after_ms // 10):
            clock[0] += 10
            hub.step(clock[0])
        return attributes(link.topic(cfg["json_attributes_topic"]))

    return p, send


REFUSED = ("{% set why = state_attr('alarm_control_panel.alarm_hub', 'refused') %}"
           "{{ 'Refused: ' ~ why if why else 'OK' }}")


def test_home_assistant_shows_why_a_command_was_refused_until_one_is_carried_out(tmp_path):
    p, send = ha_hub(tmp_path)
    p.zone(0, "living_window", "open")
    assert show(send("DISARM", "0000"), REFUSED) == "Refused: wrong code"
    attrs = send("ARM_AWAY")
    assert show(attrs, REFUSED) == ("Refused: not ready: living_window open "
                                    "(arm again within 10 s to bypass it)")
    assert p.state == "disarmed"
    assert show(send("ARM_AWAY"), REFUSED) == "OK"    # the second tap force-arms
    assert p.state == "arming"
    assert p.zones.is_(p.zones.index("living_window"), Z.BYPASSED)


def test_without_force_arming_home_assistant_is_refused_with_the_reason(tmp_path):
    p, send = ha_hub(tmp_path, force_arm=False)
    p.zone(0, "living_window", "open")
    for _ in range(2):
        assert show(send("ARM_HOME"), REFUSED) == ("Refused: not ready: living_window open "
                                                   "(force-arming is off)")
    assert p.state == "disarmed"


def test_home_assistant_is_told_how_long_the_keypad_stays_locked(tmp_path):
    p, send = ha_hub(tmp_path)
    for _ in range(DEMO.get("lockout_attempts", 5) - 1):
        send("DISARM", "0000")
    lockout = DEMO.get("lockout_time", 90)
    assert show(send("DISARM", "0000", after_ms=1000), REFUSED) == \
        "Refused: wrong code: keypad locked out for %d:%02d" % divmod(lockout, 60)
    assert show(send("DISARM", "1234"), REFUSED) == \
        "Refused: keypad locked out: %d:%02d left" % divmod(lockout - 1, 60)


def test_a_board_that_senses_the_mains_shows_a_power_sensor_off_once_ac_loss_is_reported():
    from hub import presence as P
    cfg = Config(DEMO, os.urandom)
    for lost, word in ((False, b"ON"), (True, b"OFF")):
        link = RetainedLink()
        shown = Presence(link, cfg.zones, "homeassistant", "alarm", DEMO["hub_id"], lost)
        assert len(link.retained) <= 3 * len(cfg.zones) + P._OWN_KEYS   # the table's size
        sent = dict(link.sent())
        topic = "homeassistant/binary_sensor/%s/mains-power/config" % DEMO["hub_id"]
        m = DISCOVERY_TOPIC.match(topic)
        assert m and m.group("node_id") == DEMO["hub_id"]
        sensor = json.loads(sent[topic])
        assert set(sensor) <= SENSOR_OPTIONS, set(sensor) - SENSOR_OPTIONS
        assert sensor["device_class"] == "power" and sensor["qos"] == 1
        assert sensor["state_topic"] == "alarm/%s/mains" % DEMO["hub_id"]
        assert sent[sensor["state_topic"]] == word
        shown.mains(not lost)
        assert dict(link.sent())[sensor["state_topic"]] == (b"ON" if lost else b"OFF")
    # Without a mains sense: no sensor that would show power it cannot see.
    assert not [t for t, _ in discovery(DEMO) if "mains" in t]
