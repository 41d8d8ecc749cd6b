"""A batch of signals in one store transaction, as the engine takes them off
the queue: every signal stored once and acked, the hubs' test reports
recorded, and on PostgreSQL a handful of round trips for the whole batch,
not several per signal (each is a wait on the server, and its CPU)."""
import contextlib
import time

import pytest

from desk_helpers import SECRET, add_account, query
from engine_rig import FakeClock, Phones
from monitor import case_store, signing
from monitor.engine import DUE_FRESH_S, Engine, Hooks
from monitor.items import Msg
from monitor.receiver import Settings
from monitor.store import Store

N_HUBS = 50
PER_HUB = 4
PREFIX = "alarm"


class Counted:
    """The psycopg connection, counting the round trips made on it: a
    statement each, but in a pipeline only what waits for an answer (a read,
    a sync, the pipeline's end); writes go on without waiting."""

    def __init__(self, conn):
        self._conn = conn
        self.statements = 0
        self.durable_commits = 0    # COMMITs that wait until the transaction is on disk
        self._no_wait = False
        self._piped = False

    @contextlib.contextmanager
    def pipeline(self):
        counted = self

        class Pipe:
            def __init__(self, pipe):
                self._pipe = pipe

            def sync(self):
                counted.statements += 1
                return self._pipe.sync()
        with self._conn.pipeline() as p:
            self._piped = True
            try:
                yield Pipe(p)
            finally:
                self._piped = False
                self.statements += 1        # the end waits for every answer

    def execute(self, *args, **kw):
        sql = str(args[0]).upper()
        if "SYNCHRONOUS_COMMIT = OFF" in sql:
            self._no_wait = True
        if "COMMIT" in sql.replace("SYNCHRONOUS_COMMIT", ""):
            self.durable_commits += not self._no_wait
            self._no_wait = False
        cur = self._conn.execute(*args, **kw)
        if not self._piped:
            self.statements += 1
            return cur
        return self._reading(cur)

    def _reading(self, cur):
        counted = self

        class Cursor:
            def __getattr__(self, name):
                attr = getattr(cur, name)
                if not name.startswith("fetch"):
                    return attr

                def fetch(*a, **k):
                    # A wait only while the pipeline runs and the answer is not
                    # in (reads sent together come back together).
                    if counted._piped and cur.pgresult is None:
                        counted.statements += 1
                    return attr(*a, **k)
                return fetch
        return Cursor()

    def cursor(self, *args, **kw):
        cur = self._conn.cursor(*args, **kw)
        counted = self

        class Cursor:
            def __getattr__(self, name):
                return getattr(cur, name)

            def executemany(self, *a, **k):
                counted.statements += 1
                return cur.executemany(*a, **k)

            def execute(self, *a, **k):
                counted.statements += 1
                return cur.execute(*a, **k)
        return Cursor()

    def __getattr__(self, name):
        return getattr(self._conn, name)


def _event(clock, hub, seq, code, epoch=7):
    sig = {"code": code, "event": int(code[1:]), "qualifier": code[0], "seq": seq, "zone": 0}
    body = {"v": 1, "type": "event", "hub": hub, "time": clock.t // 1000, "signal": sig}
    if epoch is not None:       # None: a hub from before epochs
        body["epoch"] = epoch
    return Msg("%s/%s/events" % (PREFIX, hub), signing.sign(SECRET, body), clock.t)


@pytest.fixture
def engine(db):
    hubs = ["hub-%02d" % i for i in range(N_HUBS)]
    for hub in hubs:
        add_account(db, hub, contacts=1, password=None)
    clock = FakeClock()
    acks = []
    eng = Engine(Settings(db=db, prefix=PREFIX), Phones(), clock, Hooks(), [],
                 lambda topic, payload: acks.append((topic, payload)))
    eng.open()
    eng.hubs, eng.acks = hubs, acks
    yield eng
    eng.store.close()


def _statements(engine, items):
    """Run the batch as the engine does; the statements it sent (PostgreSQL), else None."""
    counted = None
    if engine.store.postgres:
        counted = engine.store.db.conn = Counted(engine.store.db.conn)
    try:
        engine._groups(list(items))
    finally:
        if counted is not None:
            engine.store.db.conn = counted._conn
    return counted and counted.statements


def _acked(engine):
    seqs = {}
    for topic, payload in engine.acks:
        obj, signable = signing.parse(payload)
        body = signing.verify(SECRET, obj, signable)
        seqs.setdefault(body["hub"], []).extend(body["seqs"])
    engine.acks.clear()
    return {hub: sorted(s) for hub, s in seqs.items()}


@pytest.mark.parametrize("epoch", [7, None])
def test_a_batch_of_signals_is_stored_and_acked_in_a_few_round_trips(engine, db, epoch):
    clock = engine.clock
    items = [_event(clock, hub, seq, "E602" if seq % 2 else "R401", epoch)
             for seq in range(1, PER_HUB + 1) for hub in engine.hubs]
    sent = _statements(engine, items)
    assert _acked(engine) == {hub: list(range(1, PER_HUB + 1)) for hub in engine.hubs}
    assert query(db, "SELECT COUNT(*) AS n FROM signals")[0]["n"] == N_HUBS * PER_HUB
    tests = query(db, "SELECT hub, last_test_ms FROM accounts")
    assert {r["last_test_ms"] for r in tests} == {clock.t}
    due = clock.t + 3600_000 + engine.desk.test_grace_ms
    timers = query(db, "SELECT hub, due_ms FROM timers WHERE kind = 'test_due'")
    assert sorted((r["hub"], r["due_ms"]) for r in timers) == [(h, due) for h in engine.hubs]
    assert engine.store.counters()["stored"] == N_HUBS * PER_HUB
    if sent is not None:
        # Once about six per signal (1,200 here); then one statement per table,
        # not per signal (11); in one pipeline, 8 round trips; now 4 (one
        # statement for the signals, one for the test reports).
        assert sent <= 4, "%d round trips for a batch of %d signals" % (sent, len(items))

    # The same batch again (every hub resending): acked again, nothing stored twice.
    sent = _statements(engine, items)
    assert _acked(engine) == {hub: list(range(1, PER_HUB + 1)) for hub in engine.hubs}
    assert query(db, "SELECT COUNT(*) AS n FROM signals")[0]["n"] == N_HUBS * PER_HUB
    assert engine.store.counters()["duplicate"] == N_HUBS * PER_HUB
    if sent is not None:
        assert sent <= 2, "%d round trips for a batch of %d resends" % (sent, len(items))


def test_routine_signals_go_in_the_batchs_statements_on_either_store(engine, db, monkeypatch):
    """Only what a plan acts on goes through Desk.signal one by one: on SQLite
    too, where that way through the plans was a signal's main cost."""
    one_by_one = []
    real = engine.desk.signal
    monkeypatch.setattr(engine.desk, "signal",
                        lambda hub, body, *a, **k: one_by_one.append(hub) or real(hub, body, *a, **k))
    clock = engine.clock
    items = [_event(clock, hub, 1, "E602") for hub in engine.hubs]
    items.append(_event(clock, engine.hubs[3], 2, "E130"))
    _statements(engine, items)
    assert one_by_one == [engine.hubs[3]]
    assert _acked(engine) == dict({hub: [1] for hub in engine.hubs}, **{engine.hubs[3]: [1, 2]})
    assert query(db, "SELECT COUNT(*) AS n FROM signals")[0]["n"] == N_HUBS + 1


def test_alarms_in_a_batch_of_routine_signals_open_their_cases(engine, db):
    clock = engine.clock
    items = []
    for i, hub in enumerate(engine.hubs):
        items.append(_event(clock, hub, 1, "E602"))
        items.append(_event(clock, hub, 2, "E130" if i % 5 == 0 else "R401"))
    _statements(engine, items)
    assert _acked(engine) == {hub: [1, 2] for hub in engine.hubs}
    opened = query(db, "SELECT hub FROM cases WHERE plan = 'burglar' AND status = 'open'")
    assert sorted(r["hub"] for r in opened) == engine.hubs[::5]
    # A seq used again with another body (the hub's seqs started again): a trouble case.
    _statements(engine, [_event(clock, engine.hubs[1], 2, "E602")])
    troubles = query(db, "SELECT hub FROM cases WHERE trouble = 'seq_reset'")
    assert [r["hub"] for r in troubles] == [engine.hubs[1]]


def test_an_alarm_opens_its_case_and_places_its_call_in_few_round_trips(engine, db):
    """Alarm to case open is a person's wait: each round trip is on it."""
    clock = engine.clock
    item = _event(clock, engine.hubs[0], 1, "E130")
    sent = _statements(engine, [item])
    assert _acked(engine) == {engine.hubs[0]: [1]}
    assert [c["contact"] for c in engine.provider.placed_calls] == [1]
    if sent is not None:
        # 26 before a step's timeline and outbox rows went in one statement;
        # one more since a new case waits for an operator's acknowledgement
        # (its ack_due timer); in one pipeline, with the reads that do not
        # depend on each other sent together, 6 round trips.
        assert sent <= 8, "%d round trips for one alarm" % sent


def test_an_alarm_burst_waits_on_the_disk_once_per_alarm_in_few_round_trips(engine, db):
    """The bench's burst (an alarm every 10 ms): each comes alone to an
    engine waiting for it, and all that the loop does for one alarm, from
    its batch to the wait for the next, is on the next alarm's way to its
    case. One commit per alarm waits for the disk (the one its case and ack
    stand on); dropping the outbox rows of delivered steps need not (lost in
    a crash, a step is delivered again, as after any crash). On a busy
    machine each round trip is a wait for the server's process to get a core."""
    clock = engine.clock
    hubs = engine.hubs[:20]
    counted = None
    if engine.store.postgres:
        counted = engine.store.db.conn = Counted(engine.store.db.conn)
    statements, commits = [], []
    try:
        assert engine.once()        # waits for the first: looks the next timer up
        for seq, hub in enumerate(hubs, 1):
            before = counted and (counted.statements, counted.durable_commits)
            engine.queue.put(_event(clock, hub, 1, "E130"))
            assert engine.once()    # the alarm's batch, and the wait for the next
            if counted:
                statements.append(counted.statements - before[0])
                commits.append(counted.durable_commits - before[1])
        assert engine.once()        # idle: the wait ran out
    finally:
        if counted is not None:
            engine.store.db.conn = counted._conn
    assert [c["hub"] for c in engine.provider.placed_calls] == hubs
    assert query(db, "SELECT COUNT(*) AS n FROM outbox")[0]["n"] == 0
    if counted is not None:
        # Before: 2 commits waited on the disk per alarm, in 31 round trips.
        assert commits == [1] * len(hubs)
        assert max(statements) <= 8, statements


def test_the_test_timer_sweep_looks_at_a_slice_of_the_accounts_each_time(engine, db,
                                                                        monkeypatch):
    """Every 5 s the engine looks for accounts without a test timer (a new
    one, one whose timer fired): a slice of them each time, not every
    account of the store (120 ms at 200,000 on PostgreSQL), so the sweep
    costs the same whatever the number of homes; each slice in hub order,
    round and round."""
    from monitor import engine as engine_module
    monkeypatch.setattr(engine_module, "SWEEP_ACCOUNTS", 20, raising=False)
    assert len(query(db, "SELECT hub FROM timers WHERE kind = 'test_due'")) == N_HUBS
    engine.store.x("DELETE FROM timers WHERE kind = 'test_due'")

    def armed():
        return sorted(r["hub"] for r in query(db, "SELECT hub FROM timers "
                                                  "WHERE kind = 'test_due'"))
    engine._arm_test_timers()
    assert armed() == engine.hubs[:20]
    engine._arm_test_timers()
    assert armed() == engine.hubs[:40]
    engine._arm_test_timers()
    assert armed() == engine.hubs
    # Round again: a hub whose timer went is found on the next pass.
    engine.store.x("DELETE FROM timers WHERE hub = ?", engine.hubs[3])
    for _ in range(3):
        engine._arm_test_timers()
    assert armed() == engine.hubs


def test_a_signal_the_store_cannot_take_fails_alone_and_the_batch_is_stored(engine, db):
    """A seq past the store's 64-bit integers fails the batch's bulk
    statement: the batch goes again one signal at a time, and only that one
    is left unacked (its hub keeps it)."""
    clock = engine.clock
    items = [_event(clock, hub, 1, "E602") for hub in engine.hubs]
    items.insert(7, _event(clock, engine.hubs[7], 2 ** 70, "R401"))
    _statements(engine, items)
    assert _acked(engine) == {hub: [1] for hub in engine.hubs}
    assert query(db, "SELECT COUNT(*) AS n FROM signals")[0]["n"] == N_HUBS


def test_signals_are_stored_in_the_order_they_came(engine, db):
    """What reads a hub's signals by id (the owner's app's history) reads
    them in the order the hub sent them, routine or not."""
    clock = engine.clock
    hub = engine.hubs[0]
    codes = ["R401", "E130", "E602", "E406", "R401", "E401"]
    _statements(engine, [_event(clock, hub, seq, code) for seq, code in enumerate(codes, 1)])
    rows = query(db, "SELECT seq, code FROM signals WHERE hub = ? ORDER BY id", hub)
    assert [(r["seq"], r["code"]) for r in rows] == list(enumerate(codes, 1))


def test_the_sweep_slice_stays_cheap_on_accounts_just_imported(db):
    """Right after accounts come in bulk (an import, the bench's 200,000), the
    store has no statistics on them until autovacuum gets to it: PostgreSQL
    then guessed one timer per slice and compared each of a slice's 5,000
    accounts with each of its timers (12.5 million comparisons, 1.5 s of the
    server's CPU every 5 s). The slice must cost what it costs once analysed."""
    import time
    from monitor import case_store
    from monitor.store import Store
    hubs = ["imp-%05d" % i for i in range(6000)]
    store = Store(db)
    try:
        with store.tx() as tx:
            tx.executemany("INSERT INTO accounts (hub, secret, created_ms) VALUES (?, ?, 0)",
                           [(hub, SECRET) for hub in hubs])
            tx.executemany("INSERT INTO timers (due_ms, kind, hub) VALUES (?, 'test_due', ?)",
                           [(5, hub) for hub in hubs if hub != hubs[2500]])
        t0 = time.perf_counter()
        missing = case_store.hubs_without_test_timer(store, hubs[0], hubs[5000])
        took = time.perf_counter() - t0
    finally:
        store.close()
    assert [r["hub"] for r in missing] == [hubs[2500]]
    assert took < 0.3, "%.0f ms for a slice of 5,000" % (took * 1000)


def test_a_batchs_statements_are_planned_for_each_batch_not_prepared(engine, db):
    """psycopg prepares a statement once it has run five times, and the server
    then keeps one generic plan for it, made while the tables were small. For
    a whole batch's rows in one JSON text that plan scanned the whole signals
    table, 58-107 ms a batch at 7,000 signals and growing (docs/monitoring.md,
    "Benchmark"); planned for each batch, it looks the rows up."""
    if not engine.store.postgres:
        pytest.skip("SQLite prepares nothing across statements")
    clock = engine.clock
    for seq in range(1, 9):
        items = [_event(clock, hub, seq, "E602" if seq % 2 else "R401") for hub in engine.hubs]
        _statements(engine, items)
    assert _acked(engine) == {hub: list(range(1, 9)) for hub in engine.hubs}
    prepared = [r["statement"]
                for r in engine.store.q("SELECT statement FROM pg_prepared_statements")]
    batched = [s for s in prepared if "json_to_recordset" in s or "last_test_ms" in s]
    assert not batched, batched


def test_a_timer_another_worker_set_fires_while_this_one_is_busy(engine, db):
    """A busy engine reads the next timer's due time at most every DUE_FRESH_S,
    not once a batch: a timer another worker (or the console) sets is still
    fired within about that, however busy this one is."""
    clock, hub = engine.clock, engine.hubs[0]
    seq = iter(range(1, 10 ** 6))

    def busy_pass():
        for h in engine.hubs[1:5]:
            engine.queue.put(_event(clock, h, next(seq), "R401"))
        engine.once()
    busy_pass()
    other = Store(db)
    with other.tx():
        case_store.add_timer(other, clock.t, "test_due", hub=hub)
    other.close()
    start = time.monotonic()
    while not query(db, "SELECT id FROM cases WHERE hub = ? AND trouble = 'test_overdue'",
                    hub):
        assert time.monotonic() - start < DUE_FRESH_S + 5, "the timer never fired"
        busy_pass()
    assert query(db, "SELECT COUNT(*) AS n FROM timers WHERE due_ms <= ?", clock.t)[0]["n"] == 0
