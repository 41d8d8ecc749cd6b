"""The whole hub firmware under micropython through the secure broker (real
TLS, its own login, the ACL): everything the plain tests check still works —
discovery, retained state, signals acked end to end, plain and signed
commands, the Last Will — and no secret shows in the hub's console, its status
topic or the broker's log. A hub given the wrong CA stays off and says why."""
import copy
import json
import os
import time

import pytest

from mqtt_monitor import Monitor
from test_hub_mqtt import Watcher
from test_hub_process import CLOSED_LOOPS, DEMO, FRONT, boot, demo_config, door_advert
from tools.hubsim import HubSim
from waiting import until

from monitor import broker_access

HUB = DEMO["hub_id"]
SECRET = bytes.fromhex(DEMO["secret"])
PREFIX = DEMO["mqtt"]["prefix"]
BASE = "%s/%s/" % (PREFIX, HUB)


def tls_config(broker, ca=None):
    cfg = demo_config(broker.port)
    cfg["mqtt"] = dict(cfg["mqtt"], tls=True, ca=ca or broker.access.ca_pem(),
                       password=broker.access.password(HUB))
    return cfg


@pytest.fixture
def rig(secure_broker, tmp_path):
    made = []

    def hub(config=None, speed=20):
        sim = HubSim(str(tmp_path / "hub"), config or tls_config(secure_broker), speed=speed,
                     levels=CLOSED_LOOPS)
        made.append(sim)
        sim.start()
        boot(sim)
        return sim

    def monitor(**kw):
        m = Monitor(secure_broker.port_for("monitor"), PREFIX, HUB, SECRET,
                    auth=lambda c: secure_broker.client_auth(c, "monitor"), **kw)
        made.append(m)
        return m

    def watcher(user, filters):
        w = Watcher(secure_broker.port_for(user), filters,
                    auth=lambda c: secure_broker.client_auth(c, user))
        made.append(w)
        return w

    yield hub, monitor, watcher
    for x in made:
        (x.stop if isinstance(x, HubSim) else x.close)()


def test_everything_works_through_tls_and_the_acl(rig, secure_broker):
    hub, monitor, watcher = rig
    m = monitor(auto_ack=True)
    ha = watcher("homeassistant", ["homeassistant/#", BASE + "state", BASE + "availability",
                                   BASE + "zone/#"])
    mon = watcher("monitor", [BASE + "status"])
    sim = hub()
    panel = json.loads(ha.wait("homeassistant/alarm_control_panel/%s/panel/config" % HUB))
    assert panel["command_topic"] == BASE + "commands"
    assert ha.wait(BASE + "availability", b"online")
    assert ha.wait(BASE + "state", b"disarmed")
    sim.advert(FRONT["mac"], door_advert(1, 500))
    assert ha.wait(BASE + "zone/front_door", b"ON")
    sim.advert(FRONT["mac"], door_advert(0, 501))
    assert ha.wait(BASE + "zone/front_door", b"OFF")         # closed again: ready to arm
    # Home Assistant's plain command, then the monitor's signed SOS.
    ha.c.publish(BASE + "commands", b'{"action": "ARM_HOME", "code": "1234"}', qos=1)
    assert ha.wait(BASE + "state", b"arming")
    from uplink import wire
    from uplink import wire_host
    m.publish("commands", wire_host.command(SECRET, HUB, 1, int(time.time()), "SOS", service="fire"))
    sim.wait_for(lambda o: o.get("siren") == "temporal3", timeout=15)
    assert m.wait(lambda: "E110" in [e["signal"]["code"] for e in m.events], timeout=15)
    codes = [e["signal"]["code"] for e in m.events]
    assert codes[0] == "E305" and not m.bad
    # Acked end to end: the outbox empties, as the status topic says.
    assert until(lambda: json.loads(mon.seen.get(BASE + "status", b'{"outbox": -1}'))
                 ["outbox"] == 0, timeout=90), mon.seen.get(BASE + "status")
    status = mon.seen[BASE + "status"].decode()
    link = json.loads(status)["link"]
    # (A reconnect under load is fine; a refused TLS session is not.)
    assert link["connects"] >= 1 and "tls_failures" not in link, link
    sim.kill()
    assert ha.wait(BASE + "availability", b"offline")          # the Last Will, through the ACL
    # No secret in what the hub printed, what it published or what the broker logged.
    secrets = [DEMO["secret"], secure_broker.access.password(HUB),
               secure_broker.access.password("monitor")]
    with open(secure_broker.access.path("server.key")) as f:
        secrets.append(f.read().splitlines()[1])
    said = "\n".join(sim.raw) + status + secure_broker.log_text()
    for secret in secrets:
        assert secret not in said


def test_a_hub_with_the_wrong_ca_stays_off_and_says_why(rig, secure_broker, tmp_path):
    hub, monitor, watcher = rig
    other = str(tmp_path / "other-ca")
    os.makedirs(other)
    broker_access.make_ca(other)
    with open(os.path.join(other, "ca.crt")) as f:
        stranger = f.read()
    sim = hub(tls_config(secure_broker, ca=stranger))
    line = sim.wait_for(lambda o: o.get("link") == "tls_refused", timeout=15)
    assert line["reason"] == "untrusted" and line["count"] == 1
    sim.wait_for(lambda o: o.get("link") == "tls_refused" and o["count"] == 2, timeout=15)
    said = "\n".join(sim.raw)
    assert secure_broker.access.password(HUB) not in said


def test_a_config_asking_for_tls_without_a_ca_never_goes_plain(rig, secure_broker):
    hub, monitor, watcher = rig
    cfg = tls_config(secure_broker)
    del cfg["mqtt"]["ca"]
    sim = hub(copy.deepcopy(cfg))
    line = sim.wait_for(lambda o: "trouble" in o, timeout=15)
    assert line["field"] == "mqtt.ca"


def test_a_wrong_broker_password_is_said_on_the_console_never_shown(rig, secure_broker):
    hub, monitor, watcher = rig
    cfg = tls_config(secure_broker)
    cfg["mqtt"]["password"] = "not-the-password"
    sim = hub(cfg)
    line = sim.wait_for(lambda o: o.get("link") == "login_refused", timeout=15)
    assert line["rc"] == 5                                  # CONNACK: not authorised
    assert "not-the-password" not in "\n".join(sim.raw) + secure_broker.log_text()
