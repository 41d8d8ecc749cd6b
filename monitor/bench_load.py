"""Simulated hubs for `monitor.bench`: the flood it measures rates with, and
the load it steps up to find how many hubs one machine holds.

Each simulated hub sends one signal a minute plus its test report every hour
(the default test interval), as protocol v1 events signed with its own secret
(monitor/signing.py: the same bytes as uplink/wire.py, fast enough that one
generator process keeps pace with the service: with the hub's own pure-Python
code the generator, not the service, set the pace). Many hubs share a few MQTT
connections: a broker holding one connection per hub is the broker's
load, not the service's. Every ack is verified and timed from the publish."""
import random
import threading
import time
import uuid

import paho.mqtt.client as mqtt

from monitor import signing

ROUTINE_PER_HUB_S = 60.0
TEST_PER_HUB_S = 3600.0


class LoadHubs:
    def __init__(self, port, prefix, secrets, host="127.0.0.1"):
        self.prefix = prefix
        self.secrets = secrets
        self.names = sorted(secrets)
        self.seq = {}
        self.sent = {}          # (hub, seq) -> monotonic time of publish
        self.lat = {}           # (hub, seq) -> seconds to its ack
        self.bad_acks = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id="load-" + uuid.uuid4().hex[:8], clean_session=True)
        self.c.max_queued_messages_set(0)
        self.c.max_inflight_messages_set(0)
        self.c.on_connect = lambda c, *a: c.subscribe("%s/+/acks" % prefix, 1)
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = self._on_ack
        self.c.connect(host, port, keepalive=30)
        self.c.loop_start()
        if not self.ready.wait(10):
            raise RuntimeError("load hubs could not subscribe")

    def _on_ack(self, c, userdata, msg):
        now = time.monotonic()
        hub = msg.topic.split("/")[-2]
        obj, signable = signing.parse(msg.payload)
        body = signing.verify(self.secrets[hub], obj, signable) if obj and hub in self.secrets \
            else None
        if body is None or body.get("type") != "ack" or body.get("hub") != hub:
            self.bad_acks += 1
            return
        with self.lock:
            for s in body.get("seqs", ()):
                t = self.sent.get((hub, s))
                if t is not None and (hub, s) not in self.lat:
                    self.lat[(hub, s)] = now - t

    def _publish(self, hub, code):
        seq = self.seq.get(hub, 0) + 1
        self.seq[hub] = seq
        body = {"v": 1, "type": "event", "hub": hub, "time": int(time.time()),
                "signal": {"code": code, "event": int(code[1:]), "qualifier": code[0],
                           "seq": seq, "zone": 0}}
        payload = signing.sign(self.secrets[hub], body)
        with self.lock:
            self.sent[(hub, seq)] = time.monotonic()
        self.c.publish("%s/%s/events" % (self.prefix, hub), payload, qos=1)
        return (hub, seq)

    def flood(self, n):
        """n routine signals round-robin over the hubs, as fast as they go out."""
        return [self._publish(self.names[i % len(self.names)], "E602" if i % 2 else "R401")
                for i in range(n)]

    def wait_acked(self, keys, timeout):
        """Seconds from the first publish to the last ack of keys, or None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(k in self.lat for k in keys):
                    first = min(self.sent[k] for k in keys)
                    return max(self.sent[k] + self.lat[k] for k in keys) - first
            time.sleep(0.01)
        return None

    def step(self, n_hubs, seconds, rng=None):
        """Signals of n_hubs at their rate for `seconds`, then wait up to 10 s
        for the acks. Returns (keys sent, the rate asked, the rate achieved)."""
        rng = rng or random.Random(n_hubs)
        hubs = self.names[:n_hubs]
        per_s = n_hubs / ROUTINE_PER_HUB_S + n_hubs / TEST_PER_HUB_S
        test_share = (1 / TEST_PER_HUB_S) / (1 / ROUTINE_PER_HUB_S + 1 / TEST_PER_HUB_S)
        keys = []
        t0 = time.monotonic()
        i = 0
        while True:
            due = t0 + i / per_s
            now = time.monotonic()
            if now - t0 >= seconds:
                break
            if due > now:
                time.sleep(due - now)
            code = "E602" if rng.random() < test_share else rng.choice(("E401", "R401"))
            keys.append(self._publish(rng.choice(hubs), code))
            i += 1
        achieved = len(keys) / (time.monotonic() - t0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                if all(k in self.lat for k in keys):
                    break
            time.sleep(0.05)
        return keys, per_s, achieved

    def p99(self, keys):
        """The 99th percentile ack latency of keys in seconds (unacked count as infinite)."""
        with self.lock:
            lat = sorted(self.lat.get(k, float("inf")) for k in keys)
        return lat[min(len(lat) - 1, int(len(lat) * 0.99))], lat[len(lat) // 2]

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()
