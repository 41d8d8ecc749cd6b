"""The monitoring service: MQTT in, cases and plans in the store, acks out.

One engine thread owns the process's store connection and does all the writing:
it takes MQTT messages (and console actions) in batches, handles each inside
one transaction (a savepoint per item, so one bad item fails alone), commits,
and only then publishes the acks and emits the timeline lines. Ring timeouts
and other timers live in the store and are claimed by whichever worker
deletes them first, so they fire once and survive restarts."""
import collections
import concurrent.futures
import dataclasses
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt

from monitor import calls, intake
from monitor.cases import Desk, Refused
from monitor.store import Store, now_ms

log = logging.getLogger("monitor")


@dataclasses.dataclass
class Settings:
    db: str
    host: str = "127.0.0.1"
    port: int = 1883
    prefix: str = "alarm"
    share: str = None            # shared-subscription group: workers split the events
    calls: str = "auto"          # "auto" (automatic callee) or "console" (a person)
    ring_s: float = 30.0
    answer_s: float = 2.0        # how long the automatic callee takes to pick up
    time_scale: float = 1.0      # multiplies every wait (ring, answer, test interval)
    test_grace_s: float = 600.0
    jsonl: bool = False          # timeline steps as JSON lines on stdout
    batch: int = 256
    client_id: str = None


class Receiver:
    def __init__(self, settings, emit=None):
        self.s = settings
        self.listeners = [emit] if emit else []
        self.queue = queue.Queue()
        self.stopping = threading.Event()
        self.subscribed = threading.Event()
        self.secrets = {}
        self.provider = calls.AutomaticCallee() if settings.calls == "auto" \
            else calls.OperatorConsole()
        self.callee = Callee(self)
        self._fault = _parse_fault(os.environ.get("MONITOR_FAULT"))
        self._api_store = None
        self._api_lock = threading.Lock()
        self.engine = None
        self.client = None
        self.handled = collections.Counter()    # this process only; the store has the totals

    # ---- life cycle ----

    def start(self, timeout=10):
        scale = self.s.time_scale
        self.store = Store(self.s.db)
        self.desk = Desk(self.store, self.provider, ring_ms=int(self.s.ring_s * 1000 * scale),
                         answer_ms=int(self.s.answer_s * 1000 * scale), test_scale=scale,
                         test_grace_ms=int(self.s.test_grace_s * 1000))
        self._arm_test_timers()
        self.engine = threading.Thread(target=self._run, name="monitor-engine", daemon=True)
        self.engine.start()
        cid = self.s.client_id or "monitor-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid,
                                  clean_session=True, protocol=mqtt.MQTTv311)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 5)
        self.client.connect_async(self.s.host, self.s.port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(timeout):
            self.stop()
            raise RuntimeError("could not subscribe on %s:%d" % (self.s.host, self.s.port))
        return self

    def stop(self):
        self.stopping.set()
        if self.client:
            self.client.disconnect()
            self.client.loop_stop()
        if self.engine:
            self.queue.put(None)
            self.engine.join(10)

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
            client.subscribe(self._topics())
        else:
            log.warning("broker refused the connection: %s", rc)

    def _on_message(self, client, userdata, msg):
        self.queue.put(("msg", msg.topic, msg.payload, time.monotonic()))

    def _secret(self, hub):
        hit = self.secrets.get(hub)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        row = self.store.one("SELECT secret FROM accounts WHERE hub = ?", hub)
        secret = bytes(row["secret"]) if row else None
        if secret is not None:
            # Short-lived, so a secret changed with `account edit` takes effect soon.
            self.secrets[hub] = (secret, time.monotonic() + 10)
        return secret

    # ---- the engine ----

    def submit(self, fn):
        """Run fn(desk) on the engine thread inside a transaction; a Future of its result."""
        fut = concurrent.futures.Future()
        self.queue.put(("call", fn, fut))
        return fut

    def _run(self):
        last_arm = time.monotonic()
        while True:
            wait = self._next_timer_wait()
            try:
                first = self.queue.get(timeout=wait)
            except queue.Empty:
                first = ()
            if first is None:
                return
            items = [first] if first else []
            while len(items) < self.s.batch:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.queue.put(None)
                    break
                items.append(nxt)
            try:
                if items:
                    try:
                        self._batch(items)
                    except Exception as e:
                        # Nothing of the batch was stored, so nothing was acked: hubs
                        # resend. The console's callers must not wait forever though.
                        for item in items:
                            if item[0] == "call" and not item[2].done():
                                item[2].set_exception(e)
                        raise
                self._timers()
                if time.monotonic() - last_arm > 5:
                    last_arm = time.monotonic()
                    self._arm_test_timers()
            except Exception:
                log.exception("engine error; continuing")
                time.sleep(0.1)

    def _next_timer_wait(self):
        row = self.store.one("SELECT MIN(due_ms) AS due FROM timers")
        # Other workers add timers too, so look again at least every 250 ms.
        if row["due"] is None:
            return 0.25
        return min(0.25, max(0.0, (row["due"] - now_ms()) / 1000.0))

    def _batch(self, items):
        acks = collections.defaultdict(list)
        done = []
        self.desk.out = []
        with self.store.tx():
            for item in items:
                mark = len(self.desk.out)
                try:
                    with self.store.savepoint():
                        result = self._item(item, acks)
                    done.append((item, result, None))
                except Exception as e:
                    del self.desk.out[mark:]
                    if not isinstance(e, Refused):
                        log.exception("failed on %r", item[:2])
                    done.append((item, None, e))
            self._maybe_fault("before_commit", items)
        self._maybe_fault("after_commit", items)
        for hub, seqs in acks.items():
            self.client.publish("%s/%s/acks" % (self.s.prefix, hub),
                                intake.ack(self._secret(hub), hub, seqs), qos=1)
        self._emit(self.desk.out)
        for item, result, err in done:
            if item[0] == "call":
                if err is not None:
                    item[2].set_exception(err)
                else:
                    item[2].set_result(result)

    def _item(self, item, acks):
        if item[0] == "call":
            return item[1](self.desk)
        _, topic, payload, _arrived = item
        hub = intake.hub_of(topic, self.s.prefix, "events")
        if hub is None:
            hub = intake.hub_of(topic, self.s.prefix, "availability")
            if hub is not None:
                self.desk.availability(hub, payload.decode("utf-8", "replace").strip())
            return None
        try:
            body = intake.check(payload, hub, self._secret)
        except intake.Rejected as r:
            self.store.count("rejected")
            self.store.count("rejected_" + r.reason)
            self.handled["rejected"] += 1
            log.warning("rejected %s from topic %s (%d bytes)", r.reason, topic[:120],
                        len(payload))
            return None
        stored = self.desk.signal(hub, body)
        self.store.count("stored" if stored else "duplicate")
        self.handled["stored" if stored else "duplicate"] += 1
        # Acked even when already stored: the hub resends until it sees an ack.
        acks[hub].append(body["signal"]["seq"])
        return stored

    def _timers(self):
        due = self.store.q("SELECT * FROM timers WHERE due_ms <= ? ORDER BY due_ms, id LIMIT 100",
                           now_ms())
        if not due:
            return
        self.desk.out = []
        with self.store.tx():
            for timer in due:
                # Claiming by delete: of several workers only one deletes the row.
                if self.store.db.execute("DELETE FROM timers WHERE id = ?",
                                         (timer["id"],)).rowcount == 0:
                    continue
                mark = len(self.desk.out)
                try:
                    with self.store.savepoint():
                        self.desk.fire(dict(timer))
                except Exception as e:
                    del self.desk.out[mark:]
                    if not isinstance(e, Refused):
                        log.exception("timer %s failed", dict(timer))
            self._maybe_fault("before_commit", [])
        self._maybe_fault("after_commit", [])
        self._emit(self.desk.out)

    def _arm_test_timers(self):
        missing = self.store.q("SELECT hub, last_test_ms, created_ms FROM accounts WHERE hub NOT "
                               "IN (SELECT hub FROM timers WHERE kind = 'test_due')")
        if not missing:
            return
        with self.store.tx():
            for row in missing:
                if not self.store.one("SELECT 1 FROM timers WHERE kind = 'test_due' AND hub = ?",
                                      row["hub"]):
                    self.desk.arm_test_timer(row["hub"], row["last_test_ms"] or now_ms())

    # ---- out ----

    def _emit(self, lines):
        for line in lines:
            if self.s.jsonl:
                sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
            for fn in self.listeners:
                fn(line)
        if lines and self.s.jsonl:
            sys.stdout.flush()
        for line in lines:
            self._maybe_fault("after_step", [], line["step"])

    def _maybe_fault(self, point, items, step=None):
        """Fault injection for the restart tests: MONITOR_FAULT=<point>:<code or step>."""
        if self._fault is None or self._fault[0] != point:
            return
        want = self._fault[1]
        hit = step == want or any(
            item[0] == "msg" and want.encode() in item[2] for item in items) or (
            point != "after_step" and any(line["step"] == want for line in self.desk.out))
        if hit:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    # ---- API for the console and story runners ----

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

        def allocate(desk):
            row = desk.store.one("SELECT secret, last_command_id FROM accounts WHERE hub = ?", hub)
            if row is None:
                raise Refused("no account %s" % hub)
            # Never below the clock: the hub remembers the last id until it reboots,
            # so ids must keep rising even if this store is ever rebuilt.
            cid = max(row["last_command_id"] + 1, int(time.time()))
            desk.store.db.execute("UPDATE accounts SET last_command_id = ? WHERE hub = ?",
                                  (cid, hub))
            return bytes(row["secret"]), cid

        secret, cid = self.submit(allocate).result(10)
        payload = intake.sos_command(secret, hub, cid, int(time.time()), service)
        self.client.publish("%s/%s/commands" % (self.s.prefix, hub), payload, qos=1) \
            .wait_for_publish(5)
        return cid


class Callee:
    """Scripting the automatic callee from Python: rx.callee.script(contact=1, answer=True, ...)."""

    def __init__(self, rx):
        self.rx = rx

    def script(self, contact, answer=False, password=None, request=None, hub=None, delay_s=None):
        with self.rx._api_lock:
            return calls.set_script(self.rx.api_store(), contact, answer, password, request, hub,
                                    None if delay_s is None else delay_s * self.rx.s.time_scale)

    def script_json(self, obj):
        with self.rx._api_lock:
            return calls.set_script_json(self.rx.api_store(), obj, self.rx.s.time_scale)

    def clear(self, hub=None):
        with self.rx._api_lock:
            calls.clear_scripts(self.rx.api_store(), hub)


def _parse_fault(text):
    if not text:
        return None
    point, _, want = text.partition(":")
    return point, want
