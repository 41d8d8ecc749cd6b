"""A message far larger than any command, retained on the hub's command topic
of a real mosquitto: the hub drops it unread and counts it, stays connected,
and a panic pressed right after still reaches the monitoring side at once."""
import json
import time

import paho.mqtt.client as mqtt

from test_hub_mqtt import HUB, PREFIX, rig  # noqa: F401 (fixture)
from waiting import until

COMMANDS = "%s/%s/commands" % (PREFIX, HUB)


def retain(port, topic, payload):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="big-retained")
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        c.publish(topic, payload, qos=1, retain=True).wait_for_publish(30)
    finally:
        c.disconnect()
        c.loop_stop()


def test_a_retained_command_of_megabytes_never_holds_a_panic_back(rig, broker):
    hub, monitor, watcher = rig
    retain(broker.port, COMMANDS, b'{"action":"PANIC","pad":"' + b"x" * (4 << 20) + b'"}')
    try:
        m = monitor()
        w = watcher(["%s/%s/status" % (PREFIX, HUB)])
        sim = hub()
        assert m.wait(lambda: 1 in m.seqs(), timeout=15)          # E305: connected
        pressed = time.monotonic()
        sim.keys("D")
        assert m.wait(lambda: any(e["signal"]["code"] == "E120" for e in m.events),
                      timeout=10)
        took = time.monotonic() - pressed
        assert took < 3, took
        status = {}

        def dropped():
            status.update(json.loads(w.seen.get("%s/%s/status" % (PREFIX, HUB), b"{}")))
            return status.get("link", {}).get("oversize") == 1
        assert until(dropped, timeout=30), status
        assert status["link"]["connects"] == 1 and status["link"]["failures"] == 0
        assert status["link"]["retained_ignored"] == 0            # never handed to umqtt
    finally:
        retain(broker.port, COMMANDS, b"")                        # clear it for other tests
