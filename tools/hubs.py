"""Simulated hubs on the wire, one fleet for the tests, story runs and the
monitor's benchmark (tools/bench_monitor.py): they publish signed events
exactly as protocol v1 says, collect the monitor's signed acks (each verified
and timed from its publish), and resend what is unacked, as the hub's outbox
does. The real hub firmware is exercised by host_tests/uplink.

By default the events are built and the acks checked by the hub's own code
(firmware/uplink/wire.py). With fast=True they are signed and checked by
monitor/signing.py instead (the same bytes, on CPython's C code), so that one
generator process keeps pace with the service it measures: with the hub's
pure-Python code the generator, not the service, set the pace. Many hubs
share one MQTT connection: a broker holding one connection per hub is the
broker's load, not the service's.

For the benchmark's load steps each simulated hub sends one signal a minute
plus its test report every hour (the default test interval)."""
import collections
import random
import select
import threading
import time
import uuid

import paho.mqtt.client as mqtt

from monitor import mqtt_batched, mqtt_nodelay, signing
from monitor.clock import SYSTEM

from uplink import wire

ROUTINE_PER_HUB_S = 60.0
TEST_PER_HUB_S = 3600.0


def percentiles(latencies, unacked):
    """(p99, p50) of latencies (seconds) with `unacked` more counted as infinite."""
    lat = sorted(latencies) + [float("inf")] * unacked
    if not lat:
        raise ValueError("no signals")
    return lat[min(len(lat) - 1, int(len(lat) * 0.99))], lat[len(lat) // 2]


class Hubs:
    def __init__(self, port, prefix, secrets, host="127.0.0.1", time_s=None, clock=SYSTEM,
                 fast=False, inflight=1000, nodes=None, own_topics=False, network_thread=True):
        """secrets: {hub id: secret bytes}; the hubs' own time is time_s, else the clock's.
        fast: sign and check with monitor/signing.py (the bench); inflight: paho's
        limit on unacked QoS 1 publishes (0: none). nodes: a broker cluster's
        (host, port), tried in turn from the first when one fails, as a hub does.
        own_topics: subscribe to each hub's own acks, as a hub does, not to every
        hub's: fleets in several processes (tools/load_fleet.py) then each
        receive only their own hubs' acks. network_thread=False: no thread of
        paho's; the thread that steps the hubs runs the MQTT connection itself
        while it waits (tools/load_fleet.py: a process doing nothing else).
        With no thread to wake and no interpreter lock to hand over for each
        packet, the simulated hubs take less of the machine the service is
        measured on. That connection is not dialled again if it drops."""
        self.prefix = prefix
        self.secrets = dict(secrets)
        self.names = sorted(secrets)
        self.next_seq = {}              # hub -> its next seq (from 1)
        self.sent = {}                  # (hub, seq) -> payload
        self.sent_at = {}               # (hub, seq) -> monotonic time of first send
        self.acked = {}                 # (hub, seq) -> monotonic time of first ack
        self.acks_of = collections.Counter()    # (hub, seq) -> acks received for it
        self.in_flight = {}             # mid -> (hub, seq): published, no PUBACK yet
        self._pubacked = set()          # mids PUBACKed before in_flight had them
        self._flight = threading.Lock()     # never held while calling paho
        self.bad_acks = 0
        self.commands = []              # verified commands seen on <hub>/commands
        self.time_s = time_s
        self.clock = clock
        self.fast = fast
        self.lock = threading.Condition()
        self.ready = threading.Event()
        self.c = mqtt_batched.Client(mqtt.CallbackAPIVersion.VERSION2,
                                     client_id="hubs-" + uuid.uuid4().hex[:8], clean_session=True)
        mqtt_nodelay.no_delay(self.c)
        self.c.max_queued_messages_set(0)
        self.c.max_inflight_messages_set(inflight)
        # QoS 0, as a hub subscribes (firmware/uplink/link.py says why).
        if own_topics:
            self.filters = [("%s/%s/acks" % (prefix, hub), 0) for hub in self.names]
        else:
            self.filters = [("%s/+/acks" % prefix, 0), ("%s/+/commands" % prefix, 0)]
        self.c.on_connect = lambda c, *a: c.subscribe(self.filters)
        self.c.on_subscribe = self._on_subscribe
        self.refused_subscriptions = 0
        self.c.on_message = self._on_message
        self.c.on_publish = self._on_publish
        self.nodes = list(nodes or [(host, port)])
        self.node = 0
        # After a failed reconnect (not when the connection drops: paho keeps the
        # address while the socket closes), the next node.
        self.c.on_connect_fail = self._next_node
        self.c.reconnect_delay_set(0.2, 2)
        host, port = self.nodes[0]
        self.network_thread = network_thread
        self.c.connect(host, port, keepalive=30)
        if network_thread:
            self.c.loop_start()
        # mosquitto takes seconds over 100,000 filters from one client (about
        # 5 s; 15 s for 200,000): own_topics' fleets wait accordingly.
        deadline = time.monotonic() + 10 + len(self.filters) / 5000
        while not self.ready.is_set() and time.monotonic() < deadline:
            self.pause(0.05)
        if not self.ready.is_set():
            raise RuntimeError("simulated hubs could not subscribe")

    def pause(self, seconds):
        """Wait `seconds`; without a network thread, run the connection meanwhile
        (paho's loop, driven as its documentation has an outside event loop do)."""
        if self.network_thread:
            time.sleep(seconds)
            return
        until = time.monotonic() + seconds
        while True:
            sock = self.c.socket()
            if sock is None:
                raise RuntimeError("the simulated hubs lost the broker")
            left = max(0.0, until - time.monotonic())
            if sock.pending():
                left = 0.0
            readable, writable, _ = select.select(
                [sock], [sock] if self.c.want_write() else [], [], left)
            if readable or sock.pending():
                rc = self.c.loop_read()
            else:
                rc = mqtt.MQTT_ERR_SUCCESS
            if rc == mqtt.MQTT_ERR_SUCCESS and writable:
                rc = self.c.loop_write()
            if rc == mqtt.MQTT_ERR_SUCCESS:
                rc = self.c.loop_misc()
            if rc != mqtt.MQTT_ERR_SUCCESS:
                raise RuntimeError("the simulated hubs lost the broker: %s" % mqtt.error_string(rc))
            if time.monotonic() >= until:
                return

    def _on_subscribe(self, c, userdata, mid, granted, props=None):
        # A broker cluster electing a new leader for its session stream may
        # refuse a SUBSCRIBE (0x80): the hub's umqtt raises and the hub drops
        # the connection and dials again (a fresh session); so do these.
        if any(getattr(g, "is_failure", False) or g == 0x80 for g in granted):
            self.refused_subscriptions += 1
            if self.network_thread:     # else no one dials again: not subscribed, it says so
                threading.Thread(target=self._redial, daemon=True).start()
            return
        self.ready.set()

    def _redial(self):
        self.c.disconnect()
        self.c.loop_stop()
        time.sleep(0.5)
        self.c.connect_async(*self.nodes[self.node], keepalive=30)
        self.c.loop_start()

    def _next_node(self, c, *args):
        if len(self.nodes) > 1:
            self.node = (self.node + 1) % len(self.nodes)
            host, port = self.nodes[self.node]
            c.connect_async(host, port, keepalive=30)

    def _on_message(self, c, userdata, msg):
        now = time.monotonic()
        parts = msg.topic.split("/")
        hub, leaf = parts[-2], parts[-1]
        secret = self.secrets.get(hub)
        if secret is None:
            return
        if leaf == "commands":
            obj = wire.parse(msg.payload)
            body = wire.verify(secret, obj) if obj else None
            with self.lock:
                self.commands.append(body)
                self.lock.notify_all()
            return
        seqs = self._check_ack(hub, secret, msg.payload)
        with self.lock:
            if seqs is None:
                self.bad_acks += 1
            else:
                for s in seqs:
                    self.acked.setdefault((hub, s), now)
                    self.acks_of[(hub, s)] += 1
            self.lock.notify_all()

    def _check_ack(self, hub, secret, payload):
        if not self.fast:
            return wire.check_ack(wire.parse(payload), hub, secret)
        # As the service checks a hub's event (monitor/intake.py): the MAC over
        # the bytes as sent first, else the canonical form.
        body = signing.verify_as_sent(secret, payload)
        if body is None:
            obj, signable = signing.parse(payload)
            body = signing.verify(secret, obj, signable) if obj else None
        if body is None or body.get("type") != "ack" or body.get("hub") != hub:
            return None
        return body.get("seqs", ())

    def signal(self, hub, code, **fields):
        """Publish a new signal (next seq); returns the seq."""
        key, payload = self._signed(hub, code, None, fields)
        self._send(key, payload)
        return key[1]

    def _signed(self, hub, code, time_s=None, fields=None):
        """((hub, seq), payload) of a new signal, its seq taken, not yet sent."""
        with self.lock:
            seq = self.next_seq.get(hub, 1)
            self.next_seq[hub] = seq + 1
        sig = {"code": code, "event": int(code[1:]), "qualifier": code[0], "seq": seq}
        sig.setdefault("zone", 0)
        sig.update(fields or {})
        time_s = time_s or self.time_s or self.clock.now_ms() // 1000
        if self.fast:
            payload = signing.sign(self.secrets[hub], {"v": wire.VERSION, "type": "event",
                                                       "hub": hub, "time": time_s,
                                                       "signal": sig})
        else:
            payload = wire.event(self.secrets[hub], hub, time_s, sig)
        return (hub, seq), payload

    def _send(self, key, payload):
        with self.lock:
            self.sent[key] = payload
            self.sent_at[key] = time.monotonic()
        self._publish_event(key, payload)

    def _publish_event(self, key, payload):
        info = self.publish(key[0], "events", payload)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            return                      # not queued: the next resend sends it
        with self._flight:
            # Its PUBACK may have come already (paho calls _on_publish while
            # holding its own lock, so the publish cannot be under this one).
            if info.mid in self._pubacked:
                self._pubacked.discard(info.mid)
            else:
                self.in_flight[info.mid] = key

    def _on_publish(self, c, userdata, mid, *args):
        with self._flight:
            if self.in_flight.pop(mid, None) is None:
                self._pubacked.add(mid)

    def publish(self, hub, leaf, payload, retain=False, wait=False):
        info = self.c.publish("%s/%s/%s" % (self.prefix, hub, leaf), payload, qos=1, retain=retain)
        if wait:
            info.wait_for_publish(10)
        return info

    def resend_unacked(self):
        """Publish again what is unacked, except what the broker has not
        PUBACKed yet: a hub's umqtt waits for that PUBACK before it does
        anything else, and paho sends it again itself after a reconnect. A
        NATS node stores each QoS 1 message in JetStream before its PUBACK, one
        at a time per connection: resending all of a backlog every few seconds
        would grow the backlog faster than the node works it off."""
        with self._flight:
            waiting = set(self.in_flight.values())
        with self.lock:
            todo = [(k, p) for k, p in sorted(self.sent.items())
                    if k not in self.acked and k not in waiting]
        for key, payload in todo:
            self._publish_event(key, payload)
        return len(todo)

    def wait_acked(self, keys=None, timeout=10.0, resend_s=None):
        """Wait for acks of keys (default: everything sent); resend unacked every resend_s."""
        deadline = time.monotonic() + timeout
        next_resend = time.monotonic() + resend_s if resend_s else None
        done = 0        # want[:done] are acked (acks only accumulate: no key is checked twice)
        with self.lock:
            while True:
                want = keys if keys is not None else list(self.sent)
                while done < len(want) and want[done] in self.acked:
                    done += 1
                if done == len(want):
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
                if self.network_thread:
                    self.lock.wait(min(0.05, deadline - now))
                else:
                    self.lock.release()
                    try:
                        self.pause(min(0.05, deadline - now))
                    finally:
                        self.lock.acquire()

    # ---- the benchmark's load ----

    def flood(self, n):
        """n routine signals round-robin over the hubs, as fast as they go out;
        returns their keys, (hub, seq)."""
        return [(h, self.signal(h, "E602" if i % 2 else "R401"))
                for i, h in ((i, self.names[i % len(self.names)]) for i in range(n))]

    def took(self, keys, timeout):
        """Seconds from the first publish to the last ack of keys, or None on timeout."""
        if not self.wait_acked(keys, timeout):
            return None
        with self.lock:
            first = min(self.sent_at[k] for k in keys)
            return max(self.acked[k] for k in keys) - first

    def step(self, n_hubs, seconds, rng=None):
        """Signals of n_hubs at their rate for `seconds`, then wait up to 10 s
        for the acks. Returns (keys sent, the rate asked, the rate achieved).

        The step's signals are signed before its first goes out, each with the
        time it is due: a hub signs on its own processor, and signing here,
        on the machine the service is measured on, took a sixth of the
        generator's CPU away from the service while it was measured."""
        rng = rng or random.Random(n_hubs)
        hubs = self.names[:n_hubs]
        per_s = n_hubs / ROUTINE_PER_HUB_S + n_hubs / TEST_PER_HUB_S
        test_share = (1 / TEST_PER_HUB_S) / (1 / ROUTINE_PER_HUB_S + 1 / TEST_PER_HUB_S)
        start_s = self.time_s or self.clock.now_ms() / 1000
        signed = []
        for i in range(int(seconds * per_s)):
            code = "E602" if rng.random() < test_share else rng.choice(("E401", "R401"))
            due_s = None if self.time_s else int(start_s + i / per_s)
            signed.append(self._signed(rng.choice(hubs), code, due_s))
        t0 = time.monotonic()
        for i, (key, payload) in enumerate(signed):
            delay = t0 + i / per_s - time.monotonic()
            if delay > 0:
                self.pause(delay)
            self._send(key, payload)
        achieved = len(signed) / (time.monotonic() - t0)
        keys = [key for key, _ in signed]
        self.wait_acked(keys, 10)
        return keys, per_s, achieved

    def once_each(self, code, seconds, rng=None, **fields):
        """Every hub sends code once, in a random order, evenly over `seconds`
        (an area power cut: each hub reports its mains loss). Returns the keys
        sent and when the last went out (monotonic)."""
        hubs = list(self.names)
        (rng or random.Random(len(hubs))).shuffle(hubs)
        keys = []
        t0 = time.monotonic()
        for i, hub in enumerate(hubs):
            due = t0 + i * seconds / len(hubs)
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            keys.append((hub, self.signal(hub, code, **fields)))
        return keys, time.monotonic()

    def p99(self, keys):
        """(p99, p50) ack latency of keys in seconds (unacked count as infinite)."""
        with self.lock:
            lat = [self.acked[k] - self.sent_at[k] for k in keys if k in self.acked]
        return percentiles(lat, len(keys) - len(lat))

    def close(self):
        self.c.disconnect()
        if self.network_thread:
            self.c.loop_stop()
