"""The engine: one thread owns the process's store connection and does all
the writing. It takes queue items (MQTT messages, console actions: items.py)
in batches, handles each inside one transaction (messages optimistically
together, else a savepoint per item, so one bad item fails alone), commits,
and only then publishes the acks and emits the timeline lines it wrote
(outbox.py). It fires due timers, and while the store fails it
holds the signals (held.py) and tries again.

The MQTT client and the service's public face are receiver.py's."""
import collections
import concurrent.futures
import logging
import queue
import threading
import time
from typing import NamedTuple

from monitor import accounts, case_store, health, intake, outbox, signal_batch, timers
from monitor.case_record import Refused
from monitor.cases import Desk
from monitor.held import Held
from monitor.items import Call, Done, Msg
from monitor.store import Store

log = logging.getLogger("monitor")
SECRET_CACHE_MS = 10_000
SWEEP_MS = 5_000       # how often to look for missing test timers and undelivered steps
SWEEP_ACCOUNTS = 5_000  # accounts looked at per sweep: all of them every SWEEP_MS * n / this
# A read of the next timer's due time stands this long (real seconds): the
# timers this engine sets lower it at once; other workers' (and the
# console's) are seen within this, as an idle engine's wait always was.
DUE_FRESH_S = 0.25
_UNREAD = object()


class _ItemFailed(Exception):
    """An item of an optimistic batch failed: the batch goes again, isolated."""


class _Secret(NamedTuple):
    """A hub's secret as cached, until when."""
    secret: bytes
    until_ms: int


class Hooks:
    """What may watch the engine's commits; every method is optional to override.
    items: the batch's queue items (items.py); steps: the timeline lines it wrote."""

    def before_commit(self, items, steps):
        pass

    def after_commit(self, items, steps):
        pass

    def after_emit(self, line):
        pass


class Engine(threading.Thread):
    """settings: receiver.Settings; provider: who places calls (calls.py);
    hooks: Hooks; sinks: functions of each emitted line; publish(topic,
    payload): an ack out (the MQTT client's). open() before start()."""

    def __init__(self, settings, provider, clock, hooks, sinks, publish):
        super().__init__(name="monitor-engine", daemon=True)
        self.s = settings
        self.clock = clock
        self.hooks = hooks
        self.publish = publish
        self.queue = queue.Queue()
        self.stopping = threading.Event()
        self.secrets = {}
        self.handled = collections.Counter()    # this process only; the store has the totals
        self.health = health.StoreHealth(self.clock.now_ms())
        self.held = Held()          # signals waiting for the store to come back, unacked
        self.errors = 0
        self.beat_ms = None
        self.delivery = outbox.Delivery(sinks + [hooks.after_emit])
        self.provider = provider
        self.store = self.desk = None
        self._swept_to = ""         # the test-timer sweep's place in the accounts (hub order)
        self._last_sweep = clock.now_ms()
        self._due = _UNREAD         # the next timer's due time (_next_due)
        self._due_fresh_until = 0.0

    def open(self):
        """The store connection, the Desk on it, and what a start catches up on.
        A store that is down (a worker started during an outage, or at boot
        before its database) is waited for as a running worker waits: the
        thread retries, and catches up once it answers."""
        self.desk = Desk(None, self.provider, clock=self.clock,
                         ring_ms=int(self.s.ring_s * 1000), hold_ms=int(self.s.hold_s * 1000),
                         follow_up_ms=int(self.s.follow_up_s * 1000),
                         ack_ms=int(self.s.ack_s * 1000),
                         test_grace_ms=int(self.s.test_grace_s * 1000))
        self._caught_up = False
        try:
            self._open_store()
            self._catch_up()
        except Exception as e:
            if not health.store_fault(e):
                raise
            self._failed(e, [])
        return self

    def _catch_up(self):
        if not self._caught_up:
            self._arm_test_timers(every=True)
            self._redeliver()
            self._caught_up = True

    def submit(self, fn):
        """Run fn(desk) on the engine thread inside a transaction; a Future of its result."""
        fut = concurrent.futures.Future()
        self.queue.put(Call(fn, fut))
        return fut

    def stop(self):
        """Stop the thread (once what it is doing is done) and mark what it delivered."""
        self.stopping.set()
        if self.ident is None:
            return              # never started
        self.queue.put(None)
        self.join(10)
        if not self.is_alive() and self.store is not None:
            try:
                self.delivery.flush(self.store)
            except Exception as e:
                if not health.store_fault(e):
                    raise
                # Stopping with the store down: those steps are marked
                # delivered by whichever process next finds them (docs:
                # "Nothing said is lost"), so one may be said twice.
                log.warning("stopping with the case store failing (%s)", health.in_words(e))

    def run(self):
        self._last_sweep = self.clock.now_ms()
        while self.once():
            pass

    def once(self):
        """One pass of the loop: the next batch (or a wait for one), due
        timers, the idle work. False: stop."""
        self.beat_ms = self.clock.now_ms()
        items = []
        try:
            items = self._take()
            if items is None:
                return False
            self._open_store()
            self._catch_up()
            if items:
                self._groups(items)
            elif not self.health.ok:
                self._probe()
            self._timers()
            if not items and self.queue.empty():
                # Idle (the wait ran out): the outbox rows of delivered steps
                # go now. In a stream they go with the next transaction
                # (_begin), no round trip of their own between two alarms.
                self.delivery.flush(self.store)
            if self.clock.now_ms() - self._last_sweep > SWEEP_MS:
                self._last_sweep = self.clock.now_ms()
                self._due = _UNREAD         # the sweep may add timers
                self._arm_test_timers()
                self._redeliver()
            self._store_ok()
        except Exception as e:
            self._failed(e, items)
        return True

    def queue_head_ms(self):
        """When the oldest message still queued arrived, or None."""
        with self.queue.mutex:
            for item in self.queue.queue:
                if type(item) is Msg:
                    return item.arrived_ms
        return None

    # ---- taking the next batch ----

    def _take(self):
        """The next batch: held signals first, then the queue. None: stop."""
        if not self.health.ok:
            # Failing: wait before trying the store again, and meanwhile move
            # everything that came in into the hold (resent copies merge there).
            if self.stopping.wait(self.health.retry_ms / 1000):
                return None
            if self.held.hold_queued(self.queue, self.health.last_error):
                return None
            return self.held.take(self.s.batch)
        items = self.held.take(self.s.batch)
        if not items:
            try:
                # Only an empty queue waits, so only then is the next timer looked up.
                first = self.queue.get_nowait()
            except queue.Empty:
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

    def _next_timer_wait(self):
        if self.store is None:
            return 0
        due = self._next_due()
        # Other workers add timers too, so look again at least every DUE_FRESH_S.
        if due is None:
            return DUE_FRESH_S
        return min(DUE_FRESH_S, self.clock.wait_s(due))

    # ---- one batch, one transaction ----

    def _groups(self, items):
        """The MQTT messages in one transaction (their hubs locked up front, see
        _batch); each console call in its own, as it may touch any hub. What
        committed leaves `items`: on a failure, what is left there is what
        did not happen."""
        msgs = [item for item in items if type(item) is Msg]
        if msgs:
            self._batch(msgs)
            self.held.done(msgs)
            items[:] = [item for item in items if type(item) is not Msg]
        while items:
            self._batch(items[:1])
            del items[0]

    def _batch(self, items):
        """Items in one transaction. Messages go optimistically, without a
        savepoint each (two statements fewer per signal: a quarter of them, and
        a round trip each on PostgreSQL, where they go as one pipeline); should
        one fail, nothing of that attempt is kept and the batch goes again with
        a savepoint per item, so the bad one fails alone. A console call always has its savepoint: it
        is refused often (a case already closed) and is alone in its batch."""
        if all(type(item) is Msg for item in items):
            try:
                return self._commit(items, isolate=False)
            except _ItemFailed:
                pass
            except Exception as e:
                # Piped (PostgreSQL), a write's error may come out only at the
                # commit, past every item's own handler.
                if not self.store.postgres or health.store_fault(e):
                    raise
        return self._commit(items, isolate=True)

    def _begin(self):
        """Start of each engine transaction: drop the outbox rows of what was
        already delivered (cheaper than a transaction of their own)."""
        self.desk.out = []
        self.delivery.drop_delivered(self.store)

    def _commit(self, items, isolate):
        acks = collections.defaultdict(list)
        done = []
        # Optimistic, the batch goes as one pipeline: only the reads wait on
        # the server (a dozen round trips fewer per alarm).
        with self.store.tx(piped=not isolate):
            self._begin()
            # Every hub of the batch held before anything is read, in one go and
            # in order (Store.lock_hubs): no worker waits on another in a cycle.
            self.store.lock_hubs(self._hubs_of(items))
            runs, checked, bulk = {}, {}, {}
            if not isolate:
                runs, checked = self._routine(items)
            for i, item in enumerate(items):
                if i in runs:
                    try:
                        bulk.update(self._store_run(runs[i]))
                    except Exception as e:
                        if health.store_fault(e):
                            raise
                        raise _ItemFailed() from e
                if i in bulk:
                    done.append(Done(item, self._counted(bulk[i], acks), None))
                    continue
                if not isolate:
                    try:
                        done.append(Done(item, self._item(item, acks, checked.get(i)), None))
                    except Exception as e:
                        if health.store_fault(e):
                            raise
                        raise _ItemFailed() from e
                    continue
                mark = len(self.desk.out)
                try:
                    with self.store.savepoint():
                        result = self._item(item, acks)
                    done.append(Done(item, result, None))
                except Exception as e:
                    if health.store_fault(e):
                        raise       # the store, not this item: the whole batch waits
                    del self.desk.out[mark:]
                    if not isinstance(e, Refused):
                        log.exception("failed on %s %r", type(item).__name__, item[0])
                    done.append(Done(item, None, e))
            self.hooks.before_commit(items, self.desk.out)
        self.desk.settle()
        self.delivery.committed()
        self.hooks.after_commit(items, self.desk.out)
        # Counted before the acks go: whoever has seen an ack sees its signal
        # counted (/health's "handled"), on a fast link too.
        for d in done:
            if type(d.item) is Msg and d.result:
                self.handled[d.result] += 1
        for hub, seqs in acks.items():
            self.publish("%s/%s/acks" % (self.s.prefix, hub),
                         intake.ack(self._secret(hub), hub, seqs, self.clock.unix_s()))
        self.delivery.send(self.desk.out)
        for d in done:
            if type(d.item) is Msg:
                continue
            elif d.item.future.cancelled():
                continue        # its caller gave up waiting; what it did is committed
            elif d.error is not None:
                d.item.future.set_exception(d.error)
            else:
                d.item.future.set_result(d.result)

    def _hubs_of(self, items):
        hubs = set()
        for item in items:
            if type(item) is Msg:
                hubs.add(intake.hub_of(item.topic, self.s.prefix, "events")
                         or intake.hub_of(item.topic, self.s.prefix, "availability"))
        return hubs

    def _routine(self, items):
        """The batch's runs of routine signals, each to store at once
        (signal_batch.py) when the batch gets to its first: ({first index:
        {index: (hub, body)}}, {index: verified body} of the other events).
        In runs, so that signals are stored in the order they came."""
        events = {}
        for i, item in enumerate(items):
            if type(item) is Msg:
                hub = intake.hub_of(item.topic, self.s.prefix, "events")
                if hub is not None:
                    events[i] = hub
        self._fetch_secrets(set(events.values()))
        checked, seqs = {}, collections.Counter()
        for i, hub in events.items():
            try:
                checked[i] = intake.check(items[i].payload, hub, self._secret)
            except intake.Rejected:
                continue        # counted and logged one by one, in _item
            seqs[(hub, checked[i]["signal"]["seq"])] += 1
        # Two of a batch under one seq are left to Desk.signal, in their order.
        picked = {i: (events[i], body) for i, body in checked.items()
                  if seqs[(events[i], body["signal"]["seq"])] == 1
                  and signal_batch.routine(events[i], body)}
        runs, run = {}, None
        for i in range(len(items)):
            if i not in picked:
                run = None
            elif run is None:
                run = runs[i] = {i: picked[i]}
            else:
                run[i] = picked[i]
        return runs, {i: body for i, body in checked.items() if i not in picked}

    def _store_run(self, run):
        """{index: (hub, seq, outcome)} of a run of routine signals, stored."""
        stored = signal_batch.store(self.desk, run)
        return {i: (hub, body["signal"]["seq"], "stored" if stored[i] else "duplicate")
                for i, (hub, body) in run.items()}

    def _counted(self, done, acks):
        hub, seq, outcome = done
        self.store.count(outcome)
        # Acked even when already stored: the hub resends until it sees an ack.
        acks[hub].append(seq)
        return outcome

    def _fetch_secrets(self, hubs):
        """The secrets not cached, in one query."""
        now = self.clock.now_ms()
        missing = [h for h in hubs if h not in self.secrets or self.secrets[h].until_ms <= now]
        if missing:
            for hub, secret in accounts.secrets_of(self.store, missing).items():
                self.secrets[hub] = _Secret(secret, now + SECRET_CACHE_MS)

    def _item(self, item, acks, body=None):
        """body: the event already verified, if it was."""
        if type(item) is Call:
            return item.fn(self.desk)
        topic, payload = item.topic, item.payload
        hub = intake.hub_of(topic, self.s.prefix, "events")
        if hub is None:
            hub = intake.hub_of(topic, self.s.prefix, "availability")
            if hub is not None:
                self.desk.availability(hub, payload.decode("utf-8", "replace").strip())
            return None
        try:
            body = body or intake.check(payload, hub, self._secret)
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

    def _secret(self, hub):
        hit = self.secrets.get(hub)
        now = self.clock.now_ms()
        if hit and hit.until_ms > now:
            return hit.secret
        secret = accounts.secret_of(self.store, hub)
        if secret is not None:
            # Short-lived, so a secret changed with `account edit` takes effect soon.
            self.secrets[hub] = _Secret(secret, now + SECRET_CACHE_MS)
        return secret

    # ---- timers, test timers, undelivered steps ----

    def _next_due(self):
        """The next timer's due time, or None. Read from the store at most every
        DUE_FRESH_S, not once a batch: at a few thousand signals a second in
        small batches that read was a round trip in four."""
        written, self.store.earliest_timer = self.store.earliest_timer, None
        if self._due is _UNREAD or time.monotonic() >= self._due_fresh_until:
            self._due = timers.next_due(self.store)
            self._due_fresh_until = time.monotonic() + DUE_FRESH_S
        if written is not None and (self._due is None or written < self._due):
            self._due = written
        return self._due

    def _timers(self):
        due = self._next_due()
        if due is None or due > self.clock.now_ms():
            return
        self._due = _UNREAD         # firing them changes what is next
        with self.store.tx():
            self._begin()
            timers.fire_due(self.desk)
            self.hooks.before_commit([], self.desk.out)
        self.delivery.committed()
        self.hooks.after_commit([], self.desk.out)
        self.delivery.send(self.desk.out)

    def _arm_test_timers(self, every=False):
        """every: all accounts (at start); else the next SWEEP_ACCOUNTS of them,
        so that a sweep costs the same at a million homes as at a hundred.
        A timer missing (a new account's, one that fired) waits for its slice:
        at 200,000 accounts 200 s, against the hour of a test interval."""
        if every:
            missing = case_store.hubs_without_test_timer(self.store)
        else:
            upto = case_store.account_after(self.store, self._swept_to, SWEEP_ACCOUNTS)
            if upto is None:
                self._swept_to = ""     # past the last account: round again next time
                upto = case_store.account_after(self.store, "", SWEEP_ACCOUNTS)
                if upto is None:
                    return
            missing = case_store.hubs_without_test_timer(self.store, self._swept_to, upto)
            self._swept_to = upto
        if not missing:
            return
        with self.store.tx():
            self.store.lock_hubs([row["hub"] for row in missing])
            for row in missing:
                if not case_store.has_test_timer(self.store, row["hub"]):
                    self.desk.arm_test_timer(row["hub"],
                                             row["last_test_ms"] or self.clock.now_ms())

    def _redeliver(self):
        self.delivery.redeliver(self.store, self.clock.now_ms(), int(self.s.redeliver_s * 1000))

    # ---- when the store fails ----

    def _failed(self, err, items):
        if health.store_fault(err):
            # Nothing of the batch was stored, so nothing was acked. The signals
            # wait in the hold and go again once the store answers; each hub
            # keeps its copy too.
            self.held.hold(items or [], health.in_words(err))
            self._drop_store()
            line = self.health.failed(self.clock.now_ms(), err, len(self.held))
            if line:
                log.warning(line)
            return
        # A fault of ours, not the store's: the batch is dropped unacked (hubs
        # resend); the console's callers must not wait forever though.
        self.errors += 1
        self.held.done(items or [])
        for item in items or []:
            if type(item) is Call and not item.future.done():
                item.future.set_exception(err)
        log.exception("engine error; continuing")
        self.stopping.wait(0.1)

    def _open_store(self):
        """After a store fault the connection is dropped: open a new one (a
        server database's old one is dead; SQLite's may hold a failed commit)."""
        if self.store is None:
            self.store = Store(self.s.db)
            self.desk.store = self.store
            self._due = _UNREAD

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
