"""The customer's app on the broker: sends the hub commands (arm, disarm in
Home Assistant's plain form; panic and SOS signed with the hub secret, as the
hub requires) and watches the hub's availability."""
import json
import threading
import time

import paho.mqtt.client as mqtt

from monitor import mqtt_nodelay
from uplink import wire
from uplink import wire_host

# The hub takes these unsigned (with a user code), like Home Assistant sends them.
PLAIN = ("ARM_AWAY", "ARM_HOME", "DISARM")


class App:
    def __init__(self, port, hub_id, secret_hex, prefix="alarm", hub_clock=None, auth=None):
        """auth: fn(paho client) -> client, the login on a secure broker (Home
        Assistant's user: it reads availability and writes commands)."""
        self.hub_id = hub_id
        self.secret = bytes.fromhex(secret_hex)
        self.prefix = prefix
        self.hub_clock = hub_clock or (lambda: int(time.time()))
        # Command ids only grow, also for a hub that remembers ids from an earlier run.
        self.next_id = int(time.time())
        self.availability = None
        self._online = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id="sim-app-%d" % self.next_id, clean_session=True,
                                  protocol=mqtt.MQTTv311)
        mqtt_nodelay.no_delay(self.client)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        if auth is not None:
            auth(self.client)
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()

    def _topic(self, leaf):
        return "%s/%s/%s" % (self.prefix, self.hub_id, leaf)

    def _on_connect(self, client, userdata, flags, rc, props=None):
        client.subscribe([(self._topic("availability"), 1), (self._topic("state"), 1)])

    def _on_message(self, client, userdata, msg):
        # "online" goes out before the hub subscribes to its commands, its
        # state only once it has (uplink/link.py waits for the SUBACKs): a
        # command sent on "online" alone could reach no one.
        if msg.topic == self._topic("state"):
            if self.availability == "online":
                self._online.set()
            return
        self.availability = msg.payload.decode(errors="replace")
        self._online.clear()

    def wait_online(self, timeout):
        """Until the hub is online and takes commands."""
        if not self._online.wait(timeout):
            raise RuntimeError("the hub never came online on the broker (availability: %s)"
                               % self.availability)

    def payload(self, cmd):
        """The bytes to publish for a story's command object."""
        if not isinstance(cmd, dict) or "mac" in cmd or cmd.get("action") in PLAIN:
            return json.dumps(cmd).encode()
        self.next_id += 1
        fields = {k: v for k, v in cmd.items() if k != "action"}
        return wire_host.command(self.secret, self.hub_id, self.next_id, self.hub_clock(),
                            cmd["action"], **fields)

    def command(self, cmd):
        info = self.client.publish(self._topic("commands"), self.payload(cmd), qos=1)
        info.wait_for_publish(5)

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()
