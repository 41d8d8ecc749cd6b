"""The store's schema versions (a plain list that other modules append to), and
what the service is made of when nothing is plugged in."""
import sqlite3

import pytest

from desk_helpers import add_account, query
from monitor import schema
from monitor.store import MIGRATIONS, Store


def test_a_store_made_before_versioning_is_brought_up_to_date(sqlite_db):
    db = sqlite_db
    old = sqlite3.connect(db)
    old.executescript(schema.SCHEMA_1)          # what every earlier version created
    old.execute("INSERT INTO accounts (hub, secret, created_ms) VALUES ('hub-1', x'00', 1)")
    old.commit()
    old.close()
    s = Store(db)
    assert s.one("PRAGMA user_version")[0] == len(MIGRATIONS)
    assert {"closed_ms", "hold_until_ms", "overdue"} <= {
        r["name"] for r in s.q("PRAGMA table_info(cases)")}
    assert s.q("SELECT * FROM outbox") == []
    s.close()
    assert Store(db).one("PRAGMA user_version")[0] == len(MIGRATIONS)   # once, not twice
    assert [r["hub"] for r in query(db, "SELECT hub FROM accounts")] == ["hub-1"]


def test_a_new_store_has_every_version(db):
    add_account(db)
    s = Store(db)
    assert s.version() == len(MIGRATIONS)
    s.close()


def test_postgresql_starts_from_the_baseline_and_runs_every_later_version(pg_databases):
    """A plain ADD COLUMN appended to MIGRATIONS (as later versions are) runs on
    PostgreSQL too, once, with PostgreSQL's types; two stores opening a new
    database at once make its tables once."""
    import threading
    url = pg_databases.empty()
    later = ["ALTER TABLE accounts ADD COLUMN test_extra_account TEXT;\n"
             "ALTER TABLE accounts ADD COLUMN test_extra_ms INTEGER NOT NULL DEFAULT 0",
             "CREATE TABLE test_extra (id INTEGER PRIMARY KEY, token BLOB NOT NULL)"]
    MIGRATIONS.extend(later)
    try:
        errors = []

        def open_it():
            try:
                Store(url).close()
            except Exception as e:      # reported below
                errors.append(e)
        both = [threading.Thread(target=open_it) for _ in range(2)]
        for t in both:
            t.start()
        for t in both:
            t.join(30)
        assert errors == []
        s = Store(url)
        assert s.version() == len(MIGRATIONS)
        with s.tx():
            s.x("INSERT INTO accounts (hub, secret, created_ms, test_extra_ms) "
                "VALUES ('hub-1', ?, 1, ?)", b"\x00" * 16, 2 ** 40)
            assert s.insert("INSERT INTO test_extra (token) VALUES (?)", b"\x01") == 1
        assert s.one("SELECT test_extra_ms FROM accounts")["test_extra_ms"] == 2 ** 40
        assert bytes(s.one("SELECT token FROM test_extra")["token"]) == b"\x01"
        s.close()
    finally:
        del MIGRATIONS[-len(later):]


def test_the_service_takes_calls_at_the_console_unless_a_provider_plugs_in(db):
    from monitor import calls
    from monitor.receiver import Receiver, Settings
    from tools.sim.callee import AutomaticCallee
    assert isinstance(Receiver(Settings(db=db)).provider, calls.OperatorConsole)
    with pytest.raises(ValueError, match="tools/sim/callee.py"):
        Receiver(Settings(db=db, calls="auto"))
    callee = AutomaticCallee()
    assert Receiver(Settings(db=db), provider=callee).provider is callee


def test_on_postgresql_a_hub_is_held_by_one_transaction_at_a_time(pg_databases):
    """What stands in for BEGIN IMMEDIATE (monitor/pg.py): a second transaction
    on the same hub waits for the first to commit, then reads what it wrote;
    another hub does not wait."""
    import threading
    from waiting import until
    url = pg_databases.fresh()
    add_account(url, "hub-1")
    a, b, watch = Store(url), Store(url), Store(url)
    seen = []

    def second():
        with b.tx():
            b.lock_hubs(["hub-2"])          # another hub: not held up
            seen.append("hub-2 held")
            b.lock_hubs(["hub-1"])
            seen.append(b.one("SELECT availability FROM accounts WHERE hub = 'hub-1'")[0])
    with a.tx():
        assert a.lock_hubs(["hub-1"]) and not a.lock_hubs(["hub-1"])   # again: already held
        a.x("UPDATE accounts SET availability = 'offline' WHERE hub = 'hub-1'")
        t = threading.Thread(target=second)
        t.start()
        # b waits on hub-1's advisory lock (as the server sees it), not on anything else.
        assert until(lambda: watch.one("SELECT COUNT(*) FROM pg_stat_activity WHERE "
                                       "datname = current_database() AND wait_event_type = 'Lock' "
                                       "AND wait_event = 'advisory'")[0]
                     == 1)
        assert seen == ["hub-2 held"]
    t.join(10)
    assert seen == ["hub-2 held", "offline"]
    for s in (a, b, watch):
        s.close()


def test_a_store_connects_again_once_postgresql_is_back():
    """A server killed and started again (a crash, a failover): the
    transaction in the way fails (nothing half-written), the next one
    reconnects, and what was committed before is still there."""
    from monitor.store import ERRORS
    from tools.postgres import PostgresServer, wait_ready
    server = PostgresServer().start()
    try:
        s = Store(server.create_database("store"))
        with s.tx():
            s.count("stored")
        server.stop("immediate")
        with pytest.raises(ERRORS):
            with s.tx():
                s.count("stored")
        server.start()
        wait_ready(server)
        with s.tx():
            s.count("stored")
        assert s.counters() == {"stored": 2}
        s.close()
    finally:
        server.remove()


def test_a_provider_keeps_its_own_rows_through_the_plugin_store(db):
    """The simulation's callee keeps its scripts through monitor/plugin_store.py,
    not by writing SQL on the store: rows go in, are taken one at a time in id
    order (read and deleted inside the caller's transaction: gone only if it
    commits), and are cleared by what they match."""
    from monitor import plugin_store
    table = plugin_store.ProviderTable("test_scripts", ["hub TEXT NOT NULL", "n INTEGER"])
    s = Store(db)
    table.prepare(s)
    table.prepare(s)                                    # once made, left as it is
    assert table.add(s, [{"hub": "hub-1", "n": 1}, {"hub": "hub-2", "n": 2},
                         {"hub": "hub-1", "n": 3}]) == 3
    with pytest.raises(RuntimeError):
        with s.tx():
            assert table.take(s, hub="hub-1")["n"] == 1
            raise RuntimeError("the call failed")       # rolled back: the row stays
    with s.tx():
        assert table.take(s, hub="hub-1")["n"] == 1
        assert table.take(s, hub="hub-1", n=3)["n"] == 3
        assert table.take(s, hub="hub-1") is None
    assert table.clear(s, hub="hub-2") == 1 and table.clear(s) == 0
    with pytest.raises(ValueError):
        plugin_store.ProviderTable("x; DROP TABLE cases", ["a TEXT"])
    with pytest.raises(ValueError):
        with s.tx():
            table.take(s, **{"hub = hub OR 1": 1})
    add_account(db)
    assert plugin_store.case(s, 1) is None
    s.close()
