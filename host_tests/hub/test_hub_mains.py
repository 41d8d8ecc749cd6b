"""AC loss end to end: the real firmware under micropython on a board whose
mains sense the simulation drives, signals to a real mosquitto. The mains off
for longer than ac_loss_delay reaches the monitor as E301, its return as R301;
a blip shorter than the delay sends nothing. No siren, the arming untouched."""
import json
import os
import time

from mqtt_monitor import Monitor
from test_hub_mqtt import Watcher, clear_retained
from test_hub_process import CLOSED_LOOPS, DEMO, boot, demo_config
from tools.hubsim import BOARDS, HubSim

HUB = DEMO["hub_id"]
PREFIX = DEMO["mqtt"]["prefix"]
MAINS = 34          # input-only on the DevKitC: a divider from the 5 V supply drives it
SPEED = 20          # hub ms per real ms: the minute's delay in 3 s


def test_mains_off_past_the_delay_is_e301_its_return_r301_and_a_blip_nothing(broker, tmp_path):
    with open(os.path.join(BOARDS, "esp32_devkitc.json")) as f:
        board = json.load(f)
    board["mains_sense"] = {"pin": MAINS, "present": 1}
    status = "%s/%s/status" % (PREFIX, HUB)
    power = "%s/%s/mains" % (PREFIX, HUB)                  # Home Assistant's power sensor
    clear_retained(broker.port, [status, power])
    m = Monitor(broker.port, PREFIX, HUB, bytes.fromhex(DEMO["secret"]), auto_ack=True)
    w = Watcher(broker.port, [status, power, "homeassistant/binary_sensor/%s/#" % HUB])
    sim = HubSim(str(tmp_path / "hub"), demo_config(broker.port), board=board, speed=SPEED,
                 levels={**CLOSED_LOOPS, MAINS: 1})
    try:
        sim.start()
        boot(sim)
        sim.keys("1234B")
        sim.wait_for(lambda o: o.get("state") == "armed_home", timeout=15)
        assert m.wait(lambda: 2 in m.seqs(), timeout=15)          # E305, R401
        armed = len(sim.lines)
        assert w.wait(power, b"ON")
        sensor = json.loads(w.wait("homeassistant/binary_sensor/%s/mains-power/config" % HUB))
        assert sensor["device_class"] == "power" and sensor["state_topic"] == power

        def codes():
            return [e["signal"]["code"] for e in m.events]

        # A blip: 10 s of hub time off, well inside the minute.
        sim.level(MAINS, 0)
        time.sleep(10 / SPEED)
        sim.level(MAINS, 1)
        time.sleep(90 / SPEED)                                      # past any delay
        assert "E301" not in codes() and not any(
            o.get("signal", {}).get("event") == 301 for o in sim.lines)

        t0 = time.monotonic()
        sim.level(MAINS, 0)
        assert m.wait(lambda: "E301" in codes(), timeout=20), codes()
        waited = (time.monotonic() - t0) * SPEED
        assert waited >= 55, "E301 after %.0f s of hub time" % waited
        sig = [e["signal"] for e in m.events if e["signal"]["code"] == "E301"][0]
        assert sig["zone"] == 0
        assert sim.pin(sim.siren_pin) == 0
        assert [o for o in sim.lines[armed:] if "state" in o or "siren" in o] == []
        assert w.wait(power, b"OFF")
        assert w.wait(status, timeout=20) is not None
        deadline = time.monotonic() + 20
        while json.loads(w.seen[status]).get("mains") != "lost":
            assert time.monotonic() < deadline, w.seen[status]
            time.sleep(0.2)

        sim.level(MAINS, 1)
        assert m.wait(lambda: "R301" in codes(), timeout=20), codes()
        assert codes().count("E301") == 1 and codes().count("R301") == 1
        assert w.wait(power, b"ON")
        assert [o for o in sim.lines[armed:] if "state" in o or "siren" in o] == []
    finally:
        sim.stop()
        w.close()
        m.close()
