"""The whole hub firmware under micropython talking to a real mosquitto: Home
Assistant discovery, retained state and zones, the Last Will, signed signals
acked end to end, broker outages, kills between send and ack, commands."""
import json
import queue
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from mqtt_monitor import Monitor
from waiting import until
from test_hub_process import CLOSED_LOOPS, DEMO, FRONT, boot, demo_config, door_advert
from tools.hubsim import HubSim

HUB = DEMO["hub_id"]
SECRET = bytes.fromhex(DEMO["secret"])
PREFIX = DEMO["mqtt"]["prefix"]


class Watcher:
    """Every message on some topic filters, with the retained flag."""

    def __init__(self, port, filters, auth=None):
        """auth: fn(paho client) -> client, the login on a secure broker."""
        self.q = queue.Queue()
        self.seen = {}
        ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="watch-%d" % id(self))
        self.c.on_connect = lambda c, u, f, rc, p=None: c.subscribe([(t, 1) for t in filters])
        self.c.on_subscribe = lambda *a: ready.set()
        self.c.on_message = self._msg
        if auth is not None:
            auth(self.c)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert ready.wait(5)

    def _msg(self, c, u, msg):
        self.seen[msg.topic] = msg.payload
        self.q.put((msg.topic, msg.payload, msg.retain))

    def wait(self, topic, payload=None, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            if topic in self.seen and (payload is None or self.seen[topic] == payload):
                return self.seen[topic]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r on %s; seen %s" % (payload, topic, sorted(self.seen)))
            try:
                self.q.get(timeout=min(left, 0.2))
            except queue.Empty:
                pass

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def clear_retained(port, topics):
    """Delete retained messages an earlier test's hub left (same hub id, one
    broker for the run): a status read from them would be another hub's."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="clear-%d" % id(topics))
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        for t in topics:
            c.publish(t, b"", qos=1, retain=True).wait_for_publish(5)
    finally:
        c.loop_stop()
        c.disconnect()


@pytest.fixture
def rig(broker, tmp_path):
    made = []
    base = "%s/%s/" % (PREFIX, HUB)
    clear_retained(broker.port, [base + "status", base + "state", base + "availability"])

    def hub(speed=20, config=None, **kw):
        kw.setdefault("levels", CLOSED_LOOPS)
        sim = HubSim(str(tmp_path / "hub"), config or demo_config(broker.port), speed=speed, **kw)
        made.append(sim)
        sim.start()
        boot(sim)
        return sim

    def monitor(**kw):
        m = Monitor(broker.port, PREFIX, HUB, SECRET, **kw)
        made.append(m)
        return m

    def watcher(filters):
        w = Watcher(broker.port, filters)
        made.append(w)
        return w

    yield hub, monitor, watcher
    for x in made:
        (x.stop if isinstance(x, HubSim) else x.close)()


def armed_home(sim, m):
    """Arm Home at the keypad and see E305 and R401 reach the monitor."""
    sim.keys("1234B")
    sim.wait_for(lambda o: o.get("state") == "armed_home", timeout=15)
    assert m.wait(lambda: 2 in m.seqs(), timeout=15)
    return sim


def test_discovery_retained_state_zones_and_last_will(rig, broker):
    hub, monitor, watcher = rig
    sim = hub()
    w = watcher(["homeassistant/#", "%s/%s/#" % (PREFIX, HUB)])
    panel = json.loads(w.wait("homeassistant/alarm_control_panel/%s/panel/config" % HUB))
    assert panel["code"] == "REMOTE_CODE"
    assert panel["command_topic"] == "%s/%s/commands" % (PREFIX, HUB)
    assert panel["state_topic"] == "%s/%s/state" % (PREFIX, HUB)
    classes = {}
    for z in DEMO["zones"]:
        cfg = json.loads(w.wait("homeassistant/binary_sensor/%s/%s/config" % (HUB, z["name"])))
        assert cfg["device"]["identifiers"] == [HUB]          # one device for all
        classes[z["name"]] = cfg["device_class"]
    assert classes["hall_motion"] == "motion" and classes["hub_tamper"] == "tamper"
    assert classes["front_door"] == "opening"
    base = "%s/%s/" % (PREFIX, HUB)
    assert w.wait(base + "availability", b"online")
    assert w.wait(base + "state", b"disarmed")
    sim.advert(FRONT["mac"], door_advert(1, 500))
    assert w.wait(base + "zone/front_door", b"ON")
    attrs = json.loads(w.wait(base + "zone/front_door/attributes"))
    assert attrs == {"battery": 88, "rssi": -60}     # sensor battery and signal
    status = json.loads(w.wait(base + "status"))
    assert "adverts" in status and "link" in status
    assert status["mains"] == "unsupervised"      # the stock board senses no mains
    # The hub's own heap, as its micropython's gc reports it (no IDF heap here:
    # no largest block, which only the ESP32 gives).
    heap = status["heap"]
    assert 0 < heap["least"] <= heap["free"], heap
    assert "largest" not in heap
    # A late subscriber still gets the retained state.
    late = watcher([base + "state"])
    assert late.wait(base + "state", b"disarmed")
    sim.kill()
    assert w.wait(base + "availability", b"offline")   # the Last Will


def test_signals_are_signed_and_acks_clear_the_outbox(rig):
    hub, monitor, watcher = rig
    m = monitor(auto_ack=True)
    sim = armed_home(hub(), m)
    assert not m.bad
    codes = [e["signal"]["code"] for e in m.events]
    assert codes[:2] == ["E305", "R401"]
    status = "%s/%s/status" % (PREFIX, HUB)
    w = watcher([status])

    def emptied():
        st = json.loads(w.seen.get(status) or b"{}")
        return st.get("outbox") == 0 and st["link"]["acked"] >= 2   # both acks taken
    assert until(emptied, timeout=20), w.seen.get(status)
    sim.stop()
    again = hub()
    line = again.lines[[i for i, o in enumerate(again.lines) if "boot" in o][0]]
    assert line["queued"] == 1                           # only the new E305


def test_a_broker_outage_loses_nothing_and_the_siren_keeps_time(rig, broker):
    hub, monitor, watcher = rig
    m = monitor(auto_ack=True)
    sim = hub(speed=10)
    sim.keys("1234B")
    sim.wait_for(lambda o: o.get("state") == "armed_home", timeout=20)
    assert m.wait(lambda: 2 in m.seqs(), timeout=15)
    broker.stop()
    t0 = time.monotonic()
    sim.level(18, 1)                                     # burglary while offline
    sim.wait_pin(sim.siren_pin, 1, timeout=5)
    siren_s = time.monotonic() - t0
    # The abort window runs out offline: the burglary is queued then.
    sim.wait_for(lambda o: o.get("signal", {}).get("code") == "E130", timeout=20)
    sim.keys("1234C")
    sim.wait_for(lambda o: o.get("state") == "disarmed", timeout=10)
    sent = [o["signal"]["seq"] for o in sim.lines if "signal" in o]
    broker.start()
    assert m.wait(lambda: set(sent) <= set(m.seqs()), timeout=30), (sent, m.seqs())
    got = []
    for s in m.seqs():
        if s not in got:
            got.append(s)
    assert got == sorted(got) == sent                   # exactly once after dedupe, in order
    codes = [e["signal"]["code"] for e in m.events]
    assert "E130" in codes and "E406" in codes
    print("\nsiren on %.0f ms after the trip, broker down" % (siren_s * 1000))
    assert siren_s < 1.0


def test_a_hub_killed_before_the_ack_sends_again_after_restart(rig):
    hub, monitor, watcher = rig
    m = monitor(auto_ack=False)
    sim = armed_home(hub(), m)
    sim.kill()
    first = list(m.seqs())
    hub()
    assert m.wait(lambda: m.seqs().count(2) >= 2, timeout=15), m.seqs()
    assert set(first) <= set(m.seqs()[len(first):])     # all of them again
    m.ack(sorted(set(m.seqs())))


def test_commands_plain_signed_and_bad(rig):
    from uplink import wire
    from uplink import wire_host
    hub, monitor, watcher = rig
    m = monitor(auto_ack=True)
    sim = hub()
    base = "%s/%s/" % (PREFIX, HUB)
    w = watcher([base + "state", base + "status"])
    # Subscribed: the hub sends its signals only once both subscriptions are made.
    assert m.wait(lambda: "E305" in [e["signal"]["code"] for e in m.events], timeout=20)
    m.publish("commands", b'{"action": "ARM_HOME", "code": "1234"}')     # Home Assistant
    assert w.wait(base + "state", b"arming")
    m.publish("commands", b'{"action": "DISARM", "code": "0000"}')       # wrong code
    m.publish("commands", b'{"action": "PANIC"}')                         # unsigned: refused
    for junk in (b"", b"{", b"\xff\xfe", b"[1]", b'{"action": "FLY"}', b"x" * 5000,
                 b'{"action": "DISARM", "code": 1234}'):
        m.publish("commands", junk)
    m.publish("commands", b'{"action": "DISARM", "code": "1234"}', retain=True)   # stale
    # A board's clock starts unset: signed commands wait until an ack has
    # brought the monitor's time (the status topic says where it came from).
    assert until(lambda: json.loads(w.seen.get(base + "status", b"{}") or b"{}")
                 .get("clock", {}).get("source") == "monitor", timeout=20), w.seen
    m.publish("commands", wire_host.command(SECRET, HUB, 1, int(time.time()), "SOS",
                                       service="fire"))
    sim.wait_for(lambda o: o.get("siren") == "temporal3", timeout=10)
    assert m.wait(lambda: "E461" in [e["signal"]["code"] for e in m.events], timeout=10)
    assert m.wait(lambda: "E110" in [e["signal"]["code"] for e in m.events], timeout=10)
    assert "E120" not in [e["signal"]["code"] for e in m.events]
    # The board's clock was unset at boot (E305 carries seconds since boot);
    # what was queued after the monitor's ack carries the monitor's time.
    by_code = {e["signal"]["code"]: e for e in m.events}
    assert by_code["E305"]["time"] < 1000000000, by_code["E305"]
    assert abs(by_code["E110"]["time"] - time.time()) < 60, by_code["E110"]
    m.publish("commands", b"", retain=True)
    sim.wait_for(lambda o: "error" in o and "code must be a text" in o["error"])
    # The refusals are counted and reported on the status topic.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        st = json.loads(w.seen.get(base + "status", b"{}") or b"{}")
        link = st.get("link", {})
        if link.get("bad_commands", 0) >= 5 and st.get("panel_refused", 0) >= 1:
            break
        time.sleep(0.2)
    assert link.get("bad_commands", 0) >= 5, st
    assert st["panel_refused"] >= 1


def test_zone_names_people_give_and_home_assistant_commands(rig, broker):
    """Zone names with a space, + and # (the broker drops a client that
    publishes to such a topic, on every connect) and an arm from Home Assistant
    without a code, rendered as Home Assistant renders the discovery template."""
    import jinja2.sandbox
    hub, monitor, watcher = rig
    m = monitor(auto_ack=True)
    cfg = demo_config(broker.port)
    cfg["zones"][0]["name"] = "Front door"
    cfg["zones"][6]["name"] = "Garage #2"
    cfg["zones"][4]["name"] = "Living glass +"
    base = "%s/%s/" % (PREFIX, HUB)
    w = watcher(["homeassistant/#", base + "#"])
    sim = hub(config=cfg)
    assert m.wait(lambda: "E305" in [e["signal"]["code"] for e in m.events], timeout=20)
    for level in ("front_door", "garage_2", "living_glass"):
        w.wait(base + "zone/" + level)
        w.wait("homeassistant/binary_sensor/%s/%s/config" % (HUB, level))
    names = {json.loads(w.seen["homeassistant/binary_sensor/%s/%s/config" % (HUB, lv)])["name"]
             for lv in ("front_door", "garage_2")}
    assert names == {"Front door", "Garage #2"}
    panel = json.loads(w.wait("homeassistant/alarm_control_panel/%s/panel/config" % HUB))
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    payload = env.from_string(panel["command_template"]).render(action="ARM_AWAY", code=None)
    m.publish("commands", payload.encode())
    assert w.wait(base + "state", b"arming")
    # One connection all along: nothing the hub published made the broker drop it.
    status = base + "status"
    assert until(lambda: json.loads(w.seen.get(status, b"{}") or b"{}").get("steps", 0) > 0
                 and json.loads(w.seen[status])["link"]["connects"] == 1, timeout=20), \
        w.seen.get(status)
    assert json.loads(w.seen[status])["link"]["failures"] == 0
    assert "E461" not in [e["signal"]["code"] for e in m.events]


def test_a_plain_command_with_a_huge_id_does_not_block_signed_ones_after_a_reboot(rig):
    from uplink import wire
    from uplink import wire_host
    hub, monitor, watcher = rig
    m = monitor(auto_ack=True)
    base = "%s/%s/" % (PREFIX, HUB)
    w = watcher([base + "status"])
    sim = hub()
    assert m.wait(lambda: "E305" in [e["signal"]["code"] for e in m.events], timeout=20)
    m.publish("commands", b'{"action": "ARM_HOME", "code": "1234", "id": 999999999999}')
    sim.wait_for(lambda o: o.get("state") == "arming", timeout=10)
    sim.stop()
    w.seen.clear()
    count = len(m.events)
    again = hub()
    assert m.wait(lambda: "E305" in [e["signal"]["code"] for e in m.events[count:]], timeout=20)
    assert until(lambda: json.loads(w.seen.get(base + "status", b"{}") or b"{}")
                 .get("clock", {}).get("source") == "monitor", timeout=20), w.seen
    m.publish("commands", wire_host.command(SECRET, HUB, 1, int(time.time()), "SOS",
                                       service="medical"))
    assert m.wait(lambda: "E100" in [e["signal"]["code"] for e in m.events], timeout=10)
    again.wait_for(lambda o: o.get("signal", {}).get("code") == "E100", timeout=5)
