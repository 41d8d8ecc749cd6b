"""The monitoring service's MQTT side and its public face: the paho client
(subscribe to the hubs' events and availability, publish acks and commands),
start and stop, and what the console, the DC-09 listener and the story
runners call (submit, send_command, health_report, counters).

The work itself is the engine's (engine.py): one thread that owns the store
connection, takes what arrives here in batches, and writes, commits, acks and
emits. Time comes from an injected clock (monitor/clock.py), calls go through
an injected call provider (monitor/calls.py; the operator console by
default), and `hooks` may watch each commit (the simulation's fault injection
does)."""
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import uuid

import paho.mqtt.client as mqtt

from monitor import calls, commands, intake, mqtt_batched, mqtt_nodelay
from monitor.case_record import Refused
from monitor.clock import SYSTEM
from monitor.engine import Engine, Hooks  # noqa: F401 (Hooks: tools/sim/faults.py imports it here)
from monitor.items import Msg
from monitor.store import Store

log = logging.getLogger("monitor")


@dataclasses.dataclass
class Settings:
    db: str
    host: str = "127.0.0.1"
    port: int = 1883
    prefix: str = "alarm"
    share: str = None            # shared-subscription group: workers split the events
    calls: str = "console"       # a person at the console; other providers plug in (Receiver)
    ring_s: float = 30.0
    hold_s: float = 300.0        # a case held for a person is overdue after this
    follow_up_s: float = 1800.0  # alarms this soon after a dispatch join the dispatched case
    ack_s: float = 120.0         # a case or update no operator acknowledged is overdue after this
    test_grace_s: float = 600.0
    redeliver_s: float = 10.0    # steps a dead process left undelivered go out after this
    jsonl: bool = False          # timeline steps as JSON lines on stdout
    batch: int = 256
    client_id: str = None
    tls_ca: str = None           # the broker's CA (PEM file): TLS, and the broker's name checked
    username: str = None         # the monitor's own broker login (broker_access.MONITOR_USER)
    password: str = None
    dc09_port: int = None        # SIA DC-09 listener (monitor/dc09/): off unless given; 0: any
    dc09_host: str = "127.0.0.1"
    dc09_window: tuple = (40, 20)   # DC-09 time stamps: seconds behind, ahead of our clock
    dc09_resend_s: float = 600.0    # a stock panel's same sequence number and event: a resend
    nats: tuple = None              # a NATS broker cluster's nodes (nats:// URLs): not paho
    app_logins: tuple = None        # the app view's MQTT logins, one per NATS account


class Receiver:
    def __init__(self, settings, emit=None, provider=None, clock=None, hooks=None):
        if provider is None and settings.calls != "console":
            raise ValueError("calls %r: the service itself takes calls at the console; "
                             "pass another provider to Receiver (the simulation's callee "
                             "is tools/sim/callee.py)" % settings.calls)
        self.s = settings
        self.listeners = [emit] if emit else []
        self.subscribed = threading.Event()
        self.provider = provider or calls.OperatorConsole()
        self.clock = clock or SYSTEM
        self.hooks = hooks or Hooks()
        sinks = ([self._jsonl] if settings.jsonl else []) + self.listeners
        self.engine = Engine(settings, self.provider, self.clock, self.hooks, sinks,
                             self._publish_ack)
        self.queue = self.engine.queue          # what the engine has still to take
        self.held = self.engine.held            # signals waiting for the store to come back
        self.handled = self.engine.handled      # this process only; the store has the totals
        self._api_store = None
        self._api_lock = threading.Lock()
        self.client = None
        self.dc09 = None            # the DC-09 listener, when Settings.dc09_port is set
        self.broker_connected = False
        self.broker_since_ms = None

    @property
    def store(self):
        """The engine's store connection (for the engine thread only)."""
        return self.engine.store

    @property
    def desk(self):
        return self.engine.desk

    # ---- life cycle ----

    def start(self, timeout=10, need_broker=True):
        """need_broker=False: carry on when the broker cannot be reached in time
        (the DC-09 path works meanwhile; MQTT keeps trying in the background)."""
        self.engine.open().start()
        if self.s.dc09_port is not None:
            # Before the broker: a second path is there for when the first is not.
            from monitor.dc09.listener import Listener
            try:
                self.dc09 = Listener(self, self.s.dc09_host, self.s.dc09_port,
                                     window=self.s.dc09_window,
                                     resend_s=self.s.dc09_resend_s).start()
            except Exception:
                self.stop()
                raise
        cid = self.s.client_id or "monitor-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
        if self.s.nats:
            return self._start_nats(cid, timeout, need_broker)
        self.client = mqtt_batched.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid,
                                          clean_session=True, protocol=mqtt.MQTTv311)
        mqtt_nodelay.no_delay(self.client)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 5)
        if self.s.tls_ca:
            self.client.tls_set(ca_certs=self.s.tls_ca)
        if self.s.username:
            self.client.username_pw_set(self.s.username, self.s.password)
        self.client.connect_async(self.s.host, self.s.port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(timeout):
            if not need_broker:
                log.warning("no MQTT subscription on %s:%d yet: receiving by DC-09 only "
                            "until the broker takes it", self.s.host, self.s.port)
                return self
            self.stop()
            raise RuntimeError("could not subscribe on %s:%d" % (self.s.host, self.s.port))
        return self

    def _start_nats(self, cid, timeout, need_broker):
        from monitor.nats_link import NatsLink
        # Without --share every worker would be its own group and take every event.
        subs = [("%s/+/events" % self.s.prefix, self.s.share or "monitor"),
                ("%s/+/availability" % self.s.prefix, None)]
        self.client = NatsLink(self.s.nats, subs, self._on_nats_message, self._on_nats_state,
                               self.s.username, self.s.password, self.s.tls_ca, cid).start()
        self.subscribed = self.client.subscribed
        if not self.subscribed.wait(timeout) and need_broker:
            self.stop()
            raise RuntimeError("could not subscribe on NATS %s" % ",".join(self.s.nats))
        return self

    def _on_nats_message(self, topic, payload):
        self.queue.put(Msg(topic, payload, self.clock.now_ms()))

    def _on_nats_state(self, connected):
        self.broker_connected, self.broker_since_ms = connected, self.clock.now_ms()

    def stop(self):
        self.engine.stopping.set()
        if self.dc09:
            self.dc09.stop()
        if self.client:
            self.client.disconnect()
            self.client.loop_stop()
        self.engine.stop()

    def serve_forever(self):
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *a: done.set())
        done.wait()
        self.stop()
        print("monitor: stopped; this process handled %s" % json.dumps(dict(self.handled)),
              file=sys.stderr, flush=True)

    # ---- MQTT ----

    def _topics(self):
        events = "%s/+/events" % self.s.prefix
        if self.s.share:
            events = "$share/%s/%s" % (self.s.share, events)
        return [(events, 1), ("%s/+/availability" % self.s.prefix, 1)]

    def _on_connect(self, client, userdata, flags, rc, props=None):
        if rc == 0:
            self.broker_connected, self.broker_since_ms = True, self.clock.now_ms()
            client.subscribe(self._topics())
        else:
            log.warning("broker refused the connection: %s", rc)

    def _on_disconnect(self, client, userdata, flags, rc, props=None):
        self.broker_connected, self.broker_since_ms = False, self.clock.now_ms()

    def _on_message(self, client, userdata, msg):
        self.queue.put(Msg(msg.topic, msg.payload, self.clock.now_ms()))

    def _publish_ack(self, topic, payload):
        """On the engine thread, once the acked signals are committed."""
        self.client.publish(topic, payload, qos=1)

    @staticmethod
    def _jsonl(line):
        sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
        sys.stdout.flush()

    # ---- API for the console, the DC-09 listener and story runners ----

    def submit(self, fn):
        """Run fn(desk) on the engine thread inside a transaction; a Future of its result."""
        return self.engine.submit(fn)

    def health_report(self):
        """What /health shows an operator: the store, the broker, the engine."""
        now = self.clock.now_ms()
        engine = self.engine
        oldest = [t for t in (self.held.oldest_ms(), engine.queue_head_ms()) if t is not None]
        engine_alive = engine.is_alive()
        report = {
            "ok": engine.health.ok and engine_alive and self.broker_connected,
            "store": engine.health.snapshot(now),
            "broker": {"connected": self.broker_connected,
                       "since_ms": self.broker_since_ms},
            "engine": {"alive": engine_alive,
                       "last_beat_s_ago": round((now - engine.beat_ms) / 1000, 1)
                       if engine.beat_ms else None,
                       "errors": engine.errors},
            "signals": {"queued": self.queue.qsize(), "held_unacked": len(self.held),
                        "let_go_unacked": self.held.let_go,
                        "oldest_unacked_s": round((now - min(oldest)) / 1000, 1)
                        if oldest else None,
                        "handled": dict(self.handled)},
        }
        return report

    def api_store(self):
        """A store connection for reads and small writes from other threads (with api_lock)."""
        if self._api_store is None:
            self._api_store = Store(self.s.db)
        return self._api_store

    def counters(self):
        with self._api_lock:
            return self.api_store().counters()

    def send_sos(self, hub, service):
        """Send the hub a signed SOS command, as the customer's app does."""
        if service not in ("police", "fire", "medical"):
            raise Refused("service must be police, fire or medical")
        return self.send_command(hub, "SOS", service=service)

    def send_command(self, hub, action, **fields):
        """Send the hub a signed command (the owner's app: SOS, arm, disarm with a code)."""
        secret, cid = self.submit(commands.take_id(hub)).result(10)
        payload = intake.command(secret, hub, cid, self.clock.unix_s(), action, **fields)
        self.client.publish(commands.topic(self.s.prefix, hub), payload, qos=1) \
            .wait_for_publish(5)
        return cid
