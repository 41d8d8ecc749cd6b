"""The monitoring service: MQTT in, cases and plans in the store, acks out.

One engine thread owns the process's store connection and does all the writing:
it takes MQTT messages (and console actions) in batches, handles each inside
one transaction (a savepoint per item, so one bad item fails alone), commits,
and only then publishes the acks and emits the timeline lines, read back from
the store (monitor/outbox.py). Ring timeouts and other timers live in the
store and are claimed by whichever worker deletes them first, so they fire
once and survive restarts.

Time comes from an injected clock (monitor/clock.py), calls go through an
injected call provider (monitor/calls.py; the operator console by default),
and `hooks` may watch each commit (the simulation's fault injection does)."""
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
import uuid

import paho.mqtt.client as mqtt

from monitor import calls, health, intake, outbox, timers
from monitor.cases import Desk, Refused
from monitor.clock import SYSTEM
from monitor.held import Held
from monitor.store import Store

log = logging.getLogger("monitor")
SECRET_CACHE_MS = 10_000
SWEEP_MS = 5_000       # how often to look for missing test timers and undelivered steps


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


class _ItemFailed(Exception):
    """An item of an optimistic batch failed: the batch goes again, isolated."""


class Hooks:
    """What may watch the engine's commits; every method is optional to override.
    items: the batch's queue items; steps: the timeline lines it wrote."""

    def before_commit(self, items, steps):
        pass

    def after_commit(self, items, steps):
        pass

    def after_emit(self, line):
        pass


class Receiver:
    def __init__(self, settings, emit=None, provider=None, clock=None, hooks=None):
        if provider is None and settings.calls != "console":
            raise ValueError("calls %r: the service itself takes calls at the console; "
                             "pass another provider to Receiver (the simulation's callee "
                             "is tools/sim/callee.py)" % settings.calls)
        self.s = settings
        self.listeners = [emit] if emit else []
        self.queue = queue.Queue()
        self.stopping = threading.Event()
        self.subscribed = threading.Event()
        self.secrets = {}
        self.provider = provider or calls.OperatorConsole()
        self.clock = clock or SYSTEM
        self.hooks = hooks or Hooks()
        self._delivered = []        # emitted steps whose outbox rows are still to delete
        self._api_store = None
        self._api_lock = threading.Lock()
        self.engine = None
        self.client = None
        self.dc09 = None            # the DC-09 listener, when Settings.dc09_port is set
        self.handled = collections.Counter()    # this process only; the store has the totals
        self.health = health.StoreHealth(self.clock.now_ms())
        self.held = Held()          # signals waiting for the store to come back, unacked
        self.engine_errors = 0
        self.beat_ms = None
        self.broker_connected = False
        self.broker_since_ms = None

    # ---- life cycle ----

    def start(self, timeout=10, need_broker=True):
        """need_broker=False: carry on when the broker cannot be reached in time
        (the DC-09 path works meanwhile; MQTT keeps trying in the background)."""
        self.store = Store(self.s.db)
        self.desk = Desk(self.store, self.provider, clock=self.clock,
                         ring_ms=int(self.s.ring_s * 1000), hold_ms=int(self.s.hold_s * 1000),
                         follow_up_ms=int(self.s.follow_up_s * 1000),
                         test_grace_ms=int(self.s.test_grace_s * 1000))
        self._arm_test_timers()
        self._redeliver()
        self.engine = threading.Thread(target=self._run, name="monitor-engine", daemon=True)
        self.engine.start()
        if self.s.dc09_port is not None:
            # Before the broker: a second path is there for when the first is not.
            from monitor.dc09.listener import Listener
            try:
                self.dc09 = Listener(self, self.s.dc09_host, self.s.dc09_port,
                                     window=self.s.dc09_window).start()
            except Exception:
                self.stop()
                raise
        cid = self.s.client_id or "monitor-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid,
                                  clean_session=True, protocol=mqtt.MQTTv311)
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

    def stop(self):
        self.stopping.set()
        if self.dc09:
            self.dc09.stop()
        if self.client:
            self.client.disconnect()
            self.client.loop_stop()
        if self.engine:
            self.queue.put(None)
            self.engine.join(10)
            if not self.engine.is_alive() and self.store is not None:
                try:
                    self._flush_delivered()
                except Exception as e:
                    if not health.store_fault(e):
                        raise
                    # Stopping with the store down: those steps are marked
                    # delivered by whichever process next finds them (docs:
                    # "Nothing said is lost"), so one may be said twice.
                    log.warning("stopping with the case store failing (%s)", health.in_words(e))

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
        self.queue.put(("msg", msg.topic, msg.payload, self.clock.now_ms()))

    def _secret(self, hub):
        hit = self.secrets.get(hub)
        now = self.clock.now_ms()
        if hit and hit[1] > now:
            return hit[0]
        row = self.store.one("SELECT secret FROM accounts WHERE hub = ?", hub)
        secret = bytes(row["secret"]) if row else None
        if secret is not None:
            # Short-lived, so a secret changed with `account edit` takes effect soon.
            self.secrets[hub] = (secret, now + SECRET_CACHE_MS)
        return secret

    # ---- the engine ----

    def submit(self, fn):
        """Run fn(desk) on the engine thread inside a transaction; a Future of its result."""
        fut = concurrent.futures.Future()
        self.queue.put(("call", fn, fut))
        return fut

    def _run(self):
        last_sweep = self.clock.now_ms()
        while True:
            self.beat_ms = self.clock.now_ms()
            items = []
            try:
                items = self._take()
                if items is None:
                    return
                self._open_store()
                if items:
                    self._groups(items)
                elif not self.health.ok:
                    self._probe()
                self._timers()
                if self.queue.empty():
                    self._flush_delivered()
                if self.clock.now_ms() - last_sweep > SWEEP_MS:
                    last_sweep = self.clock.now_ms()
                    self._arm_test_timers()
                    self._redeliver()
                self._store_ok()
            except Exception as e:
                self._failed(e, items)

    def _groups(self, items):
        """The MQTT messages in one transaction (their hubs locked up front, see
        _batch); each console call in its own, as it may touch any hub. What
        committed leaves `items`: on a failure, what is left there is what
        did not happen."""
        msgs = [item for item in items if item[0] == "msg"]
        if msgs:
            self._batch(msgs)
            self.held.done(msgs)
            items[:] = [item for item in items if item[0] != "msg"]
        while items:
            self._batch(items[:1])
            del items[0]

    def _take(self):
        """The next batch: held signals first, then the queue. None: stop."""
        if not self.health.ok:
            # Failing: wait before trying the store again, and meanwhile move
            # everything that came in into the hold (resent copies merge there).
            if self.stopping.wait(self.health.retry_ms / 1000):
                return None
            if self._hold_queued():
                return None
            return self.held.take(self.s.batch)
        items = self.held.take(self.s.batch)
        if not items:
            try:
                first = self.queue.get(timeout=self._next_timer_wait())
            except queue.Empty:
                first = ()
            if first is None:
                return None
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
        return items

    def _hold_queued(self):
        """Everything queued into the hold; console actions refused at once (a
        person is waiting on them). True when asked to stop."""
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            self._hold([item], None)

    def _hold(self, items, err):
        for item in items:
            if item[0] == "msg":
                self.held.add(item)
            elif not item[2].done():
                item[2].set_exception(Refused(
                    "the case store is failing (%s): try again"
                    % (health.in_words(err) if err else self.health.last_error)))

    def _failed(self, err, items):
        if health.store_fault(err):
            # Nothing of the batch was stored, so nothing was acked. The signals
            # wait in the hold and go again once the store answers; each hub
            # keeps its copy too.
            self._hold(items or [], err)
            self._drop_store()
            line = self.health.failed(self.clock.now_ms(), err, len(self.held))
            if line:
                log.warning(line)
            return
        # A fault of ours, not the store's: the batch is dropped unacked (hubs
        # resend); the console's callers must not wait forever though.
        self.engine_errors += 1
        self.held.done(items or [])
        for item in items or []:
            if item[0] == "call" and not item[2].done():
                item[2].set_exception(err)
        log.exception("engine error; continuing")
        self.stopping.wait(0.1)

    def _open_store(self):
        """After a store fault the connection is dropped: open a new one (a
        server database's old one is dead; SQLite's may hold a failed commit)."""
        if self.store is None:
            self.store = Store(self.s.db)
            self.desk.store = self.store

    def _drop_store(self):
        store, self.store = self.store, None
        if store is not None:
            try:
                store.close()
            except Exception:   # it is failing already; the new connection is what counts
                pass

    def _probe(self):
        """While failing with nothing held: is the store writable again? A write
        that reaches the disk (or the server), not an empty transaction."""
        with self.store.tx():
            self.store.count("store_recovered", 0)

    def _store_ok(self):
        line = self.health.succeeded(self.clock.now_ms())
        if line:
            log.warning(line)

    def health_report(self):
        """What /health shows an operator: the store, the broker, the engine."""
        now = self.clock.now_ms()
        oldest = [t for t in (self.held.oldest_ms(), self._queue_head_ms()) if t is not None]
        engine_alive = bool(self.engine and self.engine.is_alive())
        report = {
            "ok": self.health.ok and engine_alive and self.broker_connected,
            "store": self.health.snapshot(now),
            "broker": {"connected": self.broker_connected,
                       "since_ms": self.broker_since_ms},
            "engine": {"alive": engine_alive,
                       "last_beat_s_ago": round((now - self.beat_ms) / 1000, 1)
                       if self.beat_ms else None,
                       "errors": self.engine_errors},
            "signals": {"queued": self.queue.qsize(), "held_unacked": len(self.held),
                        "let_go_unacked": self.held.let_go,
                        "oldest_unacked_s": round((now - min(oldest)) / 1000, 1)
                        if oldest else None,
                        "handled": dict(self.handled)},
        }
        return report

    def _queue_head_ms(self):
        with self.queue.mutex:
            for item in self.queue.queue:
                if item and item[0] == "msg":
                    return item[3]
        return None

    def _next_timer_wait(self):
        if self.store is None:
            return 0
        due = timers.next_due(self.store)
        # Other workers add timers too, so look again at least every 250 ms.
        if due is None:
            return 0.25
        return min(0.25, self.clock.wait_s(due))

    def _begin(self):
        """Start of each engine transaction: drop the outbox rows of what was
        already delivered (cheaper than a transaction of their own)."""
        self.desk.out = []
        if self._delivered:
            self.store.db.executemany("DELETE FROM outbox WHERE id = ?",
                                      [(i,) for i in self._delivered])

    def _batch(self, items):
        """Items in one transaction. Messages go optimistically, without a
        savepoint each (two statements fewer per signal: a quarter of them, and
        a round trip each on PostgreSQL); should one fail, nothing of that
        attempt is kept and the batch goes again with a savepoint per item, so
        the bad one fails alone. A console call always has its savepoint: it
        is refused often (a case already closed) and is alone in its batch."""
        if all(item[0] == "msg" for item in items):
            try:
                return self._commit(items, isolate=False)
            except _ItemFailed:
                pass
        return self._commit(items, isolate=True)

    def _commit(self, items, isolate):
        acks = collections.defaultdict(list)
        done = []
        with self.store.tx():
            self._begin()
            # Every hub of the batch held before anything is read, in one go and
            # in order (Store.lock_hubs): no worker waits on another in a cycle.
            self.store.lock_hubs(self._hubs_of(items))
            for item in items:
                if not isolate:
                    try:
                        done.append((item, self._item(item, acks), None))
                    except Exception as e:
                        if health.store_fault(e):
                            raise
                        raise _ItemFailed() from e
                    continue
                mark = len(self.desk.out)
                try:
                    with self.store.savepoint():
                        result = self._item(item, acks)
                    done.append((item, result, None))
                except Exception as e:
                    if health.store_fault(e):
                        raise       # the store, not this item: the whole batch waits
                    del self.desk.out[mark:]
                    if not isinstance(e, Refused):
                        log.exception("failed on %r", item[:2])
                    done.append((item, None, e))
            self.hooks.before_commit(items, self.desk.out)
        self._delivered = []
        self.hooks.after_commit(items, self.desk.out)
        for hub, seqs in acks.items():
            self.client.publish("%s/%s/acks" % (self.s.prefix, hub),
                                intake.ack(self._secret(hub), hub, seqs,
                                           self.clock.unix_s()), qos=1)
        self._deliver([line["id"] for line in self.desk.out])
        for item, result, err in done:
            if item[0] == "msg":
                if result:
                    self.handled[result] += 1
            elif err is not None:
                item[2].set_exception(err)
            else:
                item[2].set_result(result)

    def _hubs_of(self, items):
        hubs = set()
        for item in items:
            if item[0] == "msg":
                hubs.add(intake.hub_of(item[1], self.s.prefix, "events")
                         or intake.hub_of(item[1], self.s.prefix, "availability"))
        return hubs

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
            log.warning("rejected %s from topic %s (%d bytes)", r.reason, topic[:120],
                        len(payload))
            return "rejected"
        outcome = "stored" if self.desk.signal(hub, body) else "duplicate"
        self.store.count(outcome)
        # Acked even when already stored: the hub resends until it sees an ack.
        acks[hub].append(body["signal"]["seq"])
        return outcome

    def _timers(self):
        if not timers.any_due(self.store, self.clock.now_ms()):
            return
        with self.store.tx():
            self._begin()
            timers.fire_due(self.desk)
            self.hooks.before_commit([], self.desk.out)
        self._delivered = []
        self.hooks.after_commit([], self.desk.out)
        self._deliver([line["id"] for line in self.desk.out])

    def _arm_test_timers(self):
        missing = self.store.q("SELECT hub, last_test_ms, created_ms FROM accounts WHERE hub NOT "
                               "IN (SELECT hub FROM timers WHERE kind = 'test_due')")
        if not missing:
            return
        with self.store.tx():
            self.store.lock_hubs([row["hub"] for row in missing])
            for row in missing:
                if not self.store.one("SELECT 1 FROM timers WHERE kind = 'test_due' AND hub = ?",
                                      row["hub"]):
                    self.desk.arm_test_timer(row["hub"],
                                             row["last_test_ms"] or self.clock.now_ms())

    # ---- out: read from the store after commit ----

    def _deliver(self, ids):
        for line in outbox.take(self.store, ids):
            if self.s.jsonl:
                sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
                sys.stdout.flush()
            for fn in self.listeners:
                fn(line)
            self.hooks.after_emit(line)
            self._delivered.append(line["id"])

    def _flush_delivered(self):
        if self._delivered:
            outbox.delivered(self.store, self._delivered)
            self._delivered = []

    def _redeliver(self):
        """Steps a process that died had committed but not yet delivered."""
        self._flush_delivered()         # this process's own are not orphans
        ids = outbox.claim_orphans(self.store, self.clock.now_ms(),
                                   int(self.s.redeliver_s * 1000))
        if ids:
            log.warning("delivering %d steps left undelivered by a stopped process", len(ids))
            self._deliver(ids)
            self._flush_delivered()

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
        return self.send_command(hub, "SOS", service=service)

    def send_command(self, hub, action, **fields):
        """Send the hub a signed command (the owner's app: SOS, arm, disarm with a code)."""
        def allocate(desk):
            desk.store.lock_hubs([hub])
            row = desk.store.one("SELECT secret, last_command_id FROM accounts WHERE hub = ?", hub)
            if row is None:
                raise Refused("no account %s" % hub)
            # Never below the clock: the hub remembers the last id until it reboots,
            # so ids must keep rising even if this store is ever rebuilt.
            cid = max(row["last_command_id"] + 1, desk.now() // 1000)
            desk.store.db.execute("UPDATE accounts SET last_command_id = ? WHERE hub = ?",
                                  (cid, hub))
            return bytes(row["secret"]), cid

        secret, cid = self.submit(allocate).result(10)
        payload = intake.command(secret, hub, cid, self.clock.unix_s(), action, **fields)
        self.client.publish("%s/%s/commands" % (self.s.prefix, hub), payload, qos=1) \
            .wait_for_publish(5)
        return cid
