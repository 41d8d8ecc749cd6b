"""Simulated hubs on the wire: publish signed events exactly as protocol v1 says
(firmware/uplink/wire.py builds them), collect the monitor's signed acks, and
resend what is unacked, as the hub's outbox does. For tests, the benchmark and
story runs; the real hub firmware is exercised by host_tests/uplink."""
import threading
import time
import uuid

import paho.mqtt.client as mqtt

from monitor.clock import SYSTEM

from uplink import wire


class Hubs:
    def __init__(self, port, prefix, secrets, host="127.0.0.1", time_s=None, clock=SYSTEM):
        """secrets: {hub id: secret bytes}; the hubs' own time is time_s, else the clock's."""
        self.prefix = prefix
        self.secrets = dict(secrets)
        self.next_seq = {h: 1 for h in secrets}
        self.sent = {}                  # (hub, seq) -> payload
        self.sent_at = {}               # (hub, seq) -> monotonic time of first send
        self.acked = {}                 # (hub, seq) -> monotonic time of first ack
        self.bad_acks = 0
        self.commands = []              # verified commands seen on <hub>/commands
        self.time_s = time_s
        self.clock = clock
        self.lock = threading.Condition()
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id="hubs-" + uuid.uuid4().hex[:8], clean_session=True)
        self.c.max_queued_messages_set(0)
        self.c.max_inflight_messages_set(1000)
        self.c.on_connect = lambda c, *a: c.subscribe(
            [("%s/+/acks" % prefix, 1), ("%s/+/commands" % prefix, 1)])
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = self._on_message
        self.c.connect(host, port, keepalive=30)
        self.c.loop_start()
        if not self.ready.wait(10):
            raise RuntimeError("simulated hubs could not subscribe")

    def _on_message(self, c, userdata, msg):
        parts = msg.topic.split("/")
        hub, leaf = parts[-2], parts[-1]
        secret = self.secrets.get(hub)
        if secret is None:
            return
        obj = wire.parse(msg.payload)
        if leaf == "commands":
            body = wire.verify(secret, obj) if obj else None
            with self.lock:
                self.commands.append(body)
                self.lock.notify_all()
            return
        seqs = wire.check_ack(obj, hub, secret)
        now = time.monotonic()
        with self.lock:
            if seqs is None:
                self.bad_acks += 1
            else:
                for s in seqs:
                    self.acked.setdefault((hub, s), now)
            self.lock.notify_all()

    def signal(self, hub, code, **fields):
        """Publish a new signal (next seq); returns the seq."""
        with self.lock:
            seq = self.next_seq[hub]
            self.next_seq[hub] = seq + 1
        sig = {"code": code, "event": int(code[1:]), "qualifier": code[0], "seq": seq}
        sig.setdefault("zone", 0)
        sig.update(fields)
        payload = wire.event(self.secrets[hub], hub, self.time_s or self.clock.now_ms() // 1000, sig)
        with self.lock:
            self.sent[(hub, seq)] = payload
            self.sent_at[(hub, seq)] = time.monotonic()
        self.publish(hub, "events", payload)
        return seq

    def publish(self, hub, leaf, payload, retain=False, wait=False):
        info = self.c.publish("%s/%s/%s" % (self.prefix, hub, leaf), payload, qos=1, retain=retain)
        if wait:
            info.wait_for_publish(10)
        return info

    def resend_unacked(self):
        with self.lock:
            todo = [(k, p) for k, p in sorted(self.sent.items()) if k not in self.acked]
        for (hub, _seq), payload in todo:
            self.publish(hub, "events", payload)
        return len(todo)

    def wait_acked(self, keys=None, timeout=10.0, resend_s=None):
        """Wait for acks of keys (default: everything sent); resend unacked every resend_s."""
        deadline = time.monotonic() + timeout
        next_resend = time.monotonic() + resend_s if resend_s else None
        with self.lock:
            while True:
                want = keys if keys is not None else list(self.sent)
                if all(k in self.acked for k in want):
                    return True
                now = time.monotonic()
                if now >= deadline:
                    return False
                if next_resend and now >= next_resend:
                    self.lock.release()
                    try:
                        self.resend_unacked()
                    finally:
                        self.lock.acquire()
                    next_resend = now + resend_s
                self.lock.wait(min(0.05, deadline - now))

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()
