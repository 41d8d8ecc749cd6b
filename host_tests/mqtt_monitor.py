"""The monitoring side of a hub, in a few lines of paho-mqtt: collects and verifies
events, acks them (or not), publishes commands. Used by the uplink and hub tests."""
import json
import queue
import threading
import time

from waiting import until



class Monitor:
    """The monitoring side, with paho-mqtt: collects events, optionally acks them."""

    def __init__(self, port, prefix, hub, secret, auto_ack=True, topics=("events",), auth=None):
        """auth: fn(paho client) -> client, e.g. a secure broker's login as the monitor."""
        import paho.mqtt.client as mqtt
        self.hub = hub
        self.secret = secret
        self.base = "%s/%s/" % (prefix, hub)
        self.auto_ack = auto_ack
        self.topics = topics
        self.events = []          # verified event bodies, in arrival order
        self.bad = []
        self.other = queue.Queue()
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="monitor-%d" % id(self))
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.reconnect_delay_set(1, 1)
        if auth is not None:
            auth(self.c)
        self.c.connect("127.0.0.1", port, keepalive=5)
        self.c.loop_start()
        if not self.connected.wait(5):
            raise AssertionError("monitor could not connect")

    def _on_connect(self, c, userdata, flags, rc, props=None):
        c.subscribe([(self.base + t, 1) for t in self.topics])

    def _on_subscribe(self, c, userdata, mid, rcs, props=None):
        self.connected.set()      # subscribed: nothing published from now on is missed

    def _on_message(self, c, userdata, msg):
        from uplink import wire
        from uplink import wire_host
        if msg.topic == self.base + "events":
            body = wire_host.check_event(self.secret, msg.payload, self.hub)
            with self.lock:
                if body is None:
                    self.bad.append(msg.payload)
                    return
                self.events.append(body)
            if self.auto_ack:
                self.ack([body["signal"]["seq"]])
        else:
            self.other.put((msg.topic[len(self.base):], msg.payload, msg.retain))

    def seqs(self):
        with self.lock:
            return [e["signal"]["seq"] for e in self.events]

    def ack(self, seqs, signed=True):
        from uplink import wire
        from uplink import wire_host
        payload = wire_host.ack(self.secret, self.hub, seqs, int(time.time())) if signed \
            else json.dumps({"seqs": seqs})
        self.c.publish(self.base + "acks", payload, qos=1)

    def publish(self, topic, payload, retain=False):
        self.c.publish(self.base + topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def wait(self, pred, timeout=10.0):
        return bool(until(pred, timeout))

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()
