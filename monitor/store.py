"""The case store, shared by every worker process: one SQLite file in WAL mode
(the default: nothing to set up), or a PostgreSQL database (`--db
postgresql://...`: several machines, monitor/pg.py).

Every state change (a signal, its case, the call, the timer, the dispatch) is
written in one transaction, and two workers never decide on the same case
from the same stale read: on SQLite writers take the lock up front (BEGIN
IMMEDIATE), on PostgreSQL they lock the hubs they act on (Store.lock_hubs)."""
import contextlib
import json
import os
import sqlite3

import psycopg

from monitor import pg, pg_schema
from monitor.schema import MIGRATIONS

# What a store raises when it fails (not a bad item: the store itself).
ERRORS = (sqlite3.Error, psycopg.Error)
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


class Store:
    """One connection to the case store: a SQLite file, or a PostgreSQL
    database when `db` is a postgresql:// URL (monitor/pg.py). Not shared
    between threads.

    The engine's SQL is the common ground of both (`?` placeholders,
    ON CONFLICT, RETURNING); what differs is here: transactions and
    savepoints, ids of new rows (insert), per-hub locks, and migrations."""

    def __init__(self, db, timeout_s=30.0, create=True):
        self.path = db
        self.timeout_s = timeout_s
        self.postgres = pg.is_url(db)
        self._counts = []           # this transaction's counter increments (see count)
        self._held = set()          # hubs this transaction holds (see lock_hubs)
        self._in_tx = False
        # The earliest due time of the timers written on this connection since
        # the engine last looked (timer_written): it need not read the table
        # again to know what it set itself.
        self.earliest_timer = None
        if create and not self.postgres:
            _private_files(db)
        self._connect()
        if create:
            self.migrate()

    def _connect(self):
        if self.postgres:
            self.db = pg.Connection(self.path, self.timeout_s)
            return
        self.db = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None,
                                  check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # An ack tells the hub it may forget the signal, so the commit must be on disk.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")

    # ---- schema ----

    def version(self):
        if not self.postgres:
            return self.one("PRAGMA user_version")[0]
        if self.one("SELECT to_regclass('schema_version') IS NOT NULL AS made")["made"]:
            return self.one("SELECT version FROM schema_version")["version"]
        return 0

    def migrate(self):
        with self.tx():
            if self.postgres:
                self.db.lock_schema()       # workers starting together migrate once
            have = self.version()
            if self.postgres and have == 0:
                self.db.script(pg_schema.BASELINE)
                self.db.execute("INSERT INTO schema_version (version) VALUES (?)",
                                (pg_schema.BASELINE_VERSION,))
                have = pg_schema.BASELINE_VERSION
            for version, sql in enumerate(MIGRATIONS[have:], have + 1):
                self.script(sql)
                if self.postgres:
                    self.db.execute("UPDATE schema_version SET version = ?", (version,))
                else:
                    self.db.execute("PRAGMA user_version = %d" % version)

    def script(self, sql):
        """Run `;`-separated DDL written for SQLite (PostgreSQL gets its types)."""
        if self.postgres:
            sql = pg.ddl(sql)
        for stmt in sql.split(";"):
            if stmt.strip():
                self.db.execute(stmt)

    def ensure(self, sql):
        """CREATE ... IF NOT EXISTS tables a module keeps beside the cases, in
        their own transaction (on PostgreSQL under the migration lock, as two
        processes creating one table at once would collide)."""
        with self.tx():
            if self.postgres:
                self.db.lock_schema()
            self.script(sql)

    # ---- transactions ----

    @contextlib.contextmanager
    def tx(self, piped=False):
        """A write transaction: committed whole, or rolled back whole.
        SQLite: BEGIN IMMEDIATE takes the one write lock up front. PostgreSQL:
        transactions run side by side; what they decide per hub they decide
        under lock_hubs. piped (PostgreSQL): see _piped_tx."""
        if piped and self.postgres:
            with self._piped_tx() as db:
                yield db
            return
        self._ready()
        self._counts = []
        self._held = set()
        self.db.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
        self._in_tx = True
        try:
            yield self.db
            self._flush_counts()
        except BaseException:
            self._counts = []
            self._in_tx = False
            try:
                self.db.execute("ROLLBACK")
            except ERRORS:
                pass            # the connection is gone: so is the transaction
            raise
        self._in_tx = False
        try:
            self.db.execute("COMMIT")
        except BaseException:
            # SQLite may keep the transaction open after a failed COMMIT (a full
            # disk): end it, or every later BEGIN on this connection fails too.
            if not self.postgres and self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK")
                except ERRORS:
                    pass
            raise

    @contextlib.contextmanager
    def _piped_tx(self):
        """tx() as one pipeline (pg.Connection.pipeline): BEGIN, the writes that
        need no answer and COMMIT go without waiting each for its answer; only
        the reads wait. It returns once the COMMIT's answer is in, so what
        stands on the commit (an ack) still comes after it. No savepoints: a
        statement's error may come out only at a later read, past where a
        savepoint would have caught it; the caller's whole attempt fails."""
        self._ready()
        self._counts = []
        self._held = set()
        try:
            with self.db.pipeline():
                self.db.execute("BEGIN")
                self._in_tx = True
                yield self.db
                self._flush_counts()
                self._in_tx = False
                self.db.execute("COMMIT")
        except BaseException:
            self._counts = []
            self.db.end_failed()
            raise
        finally:
            self._in_tx = False

    def _ready(self):
        """Outside a transaction, a PostgreSQL connection lost in an outage is
        made again once the server answers (inside one, the loss fails the
        transaction, as it must: nothing of it may be half done)."""
        if self.postgres and not self._in_tx and self.db.closed:
            self._connect()

    @contextlib.contextmanager
    def savepoint(self, name="item"):
        """Inside tx(): one item of a batch that can fail without failing the others."""
        mark, held = len(self._counts), set(self._held)
        self.db.execute("SAVEPOINT " + name)
        try:
            yield self.db
        except BaseException:
            # Rolling back to a savepoint also lets go of the locks taken since.
            del self._counts[mark:]
            self._held = held
            self.db.execute("ROLLBACK TO SAVEPOINT " + name)
            self.db.execute("RELEASE SAVEPOINT " + name)
            raise
        self.db.execute("RELEASE SAVEPOINT " + name)

    def lock_hubs(self, hubs):
        """Inside tx(): hold these hubs until commit. A no-op on SQLite (the
        transaction already holds the store's one write lock); on PostgreSQL
        see monitor/pg.py. Take all of a transaction's hubs before its first
        read of them; locking a hub again later in it is free. True when a
        lock was taken just now (what was read before it may be stale)."""
        if not self.postgres:
            return False
        new = {h for h in hubs if h is not None} - self._held
        if not new:
            return False
        self.db.lock_hubs(new)
        self._held |= new
        return True

    def held(self):
        """The hubs this transaction holds (PostgreSQL)."""
        return self._held

    # ---- reading and writing ----

    def _execute(self, sql, args, **how):
        self._ready()
        try:
            return self.db.execute(sql, args, **how)
        except psycopg.OperationalError:
            # A connection the server dropped (a restart) is only found out on
            # its next use. Outside a transaction, with the connection gone,
            # the statement never ran: once more on a new connection.
            if self._in_tx or not self.db.closed:
                raise
            self._connect()
            return self.db.execute(sql, args, **how)

    def forget(self, sql):
        """PostgreSQL: a write (no parameters) in a transaction of its own whose
        commit does not wait for the disk (pg.Connection.forget), for what a
        crash may undo without harm; never what an ack stands on."""
        self._ready()
        self.db.forget(sql)

    def soon(self, sql, *args):
        """A read sent now and answered when asked: a function that returns its
        rows. In a pipeline (tx(piped=True)) reads sent one after another
        come back in one round trip, not one each."""
        if self.postgres and self.db.pipe is not None:
            return self._execute(sql, args).fetchall
        rows = self.q(sql, *args)
        return lambda: rows

    def q(self, sql, *args):
        return self._execute(sql, args).fetchall()

    def q_unprepared(self, sql, *args):
        """q() for a statement over a whole batch (its rows as one JSON text or
        array), planned for its arguments every time. psycopg prepares a
        statement once it has run five times, and the server then keeps one
        generic plan for it, made while the tables were small: a batch's
        lookup by (hub, seq) kept scanning the whole signals table, 58-107 ms
        a batch at 7,000 signals and more as it grew. Planning once per batch
        costs well under a millisecond."""
        if not self.postgres:
            return self.q(sql, *args)
        return self._execute(sql, args, prepare=False).fetchall()

    def one(self, sql, *args):
        return self._execute(sql, args).fetchone()

    def among(self, column, values):
        """(condition, args): `column` is one of the text values, for a
        statement's WHERE; one array on PostgreSQL, a variable each on SQLite
        (at most 32,766 of them: a batch's hubs are at most Settings.batch)."""
        values = list(values)
        if self.postgres:
            return "%s = ANY(?::text[])" % column, [values]
        return "%s IN (%s)" % (column, ",".join("?" * len(values))), values

    def x(self, sql, *args):
        """A write; the number of rows it changed."""
        cur = self._execute(sql, args)
        if self.postgres:
            self.db.sync()      # in a pipeline, the count comes with the answer
        return cur.rowcount

    def insert(self, sql, *args):
        """An INSERT into a table with an `id` key: the new row's id, or None
        when ON CONFLICT DO NOTHING left it out."""
        row = self.db.execute(sql + " RETURNING id", args).fetchone()
        return row[0] if row is not None else None

    def timer_written(self, due):
        """A timer was set or moved to due (ms) on this connection."""
        if self.earliest_timer is None or due < self.earliest_timer:
            self.earliest_timer = due

    def count(self, name, n=1):
        """Inside tx(): add to a counter. Written at commit, each counter once
        and in name order: a counter row is shared by every worker, so it is
        locked as briefly as can be and always in the same order."""
        self._counts.append((name, n))
        if not self._in_tx:
            self._flush_counts()        # on its own, outside a transaction

    def _flush_counts(self):
        totals = {}
        for name, n in self._counts:
            totals[name] = totals.get(name, 0) + n
        self._counts = []
        if self.postgres and totals:
            # One statement; unnest keeps the order, so the rows lock in name order.
            names = sorted(totals)
            self.db.execute("INSERT INTO counters (name, n) SELECT * FROM unnest(?::text[], "
                            "?::bigint[]) ON CONFLICT (name) DO UPDATE SET n = counters.n "
                            "+ excluded.n", (names, [totals[n] for n in names]))
            return
        for name in sorted(totals):
            self.db.execute("INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT (name) "
                            "DO UPDATE SET n = counters.n + excluded.n", (name, totals[name]))

    def counters(self):
        return {r["name"]: r["n"] for r in self.q("SELECT name, n FROM counters")}

    def close(self):
        self.db.close()


def _private_files(path):
    """The store holds every hub's secret: create it readable by its owner
    only. SQLite gives the WAL and SHM files it creates the main file's mode.
    A store made before this (world-readable) loses its "other" bits."""
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    for name in (path, path + "-wal", path + "-shm"):
        try:
            mode = os.stat(name).st_mode & 0o777
            if mode & 0o007:
                os.chmod(name, mode & ~0o007)
        except FileNotFoundError:
            pass


def loads(text):
    return json.loads(text) if text else {}
