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

# What a store raises when it fails (not a bad item: the store itself).
ERRORS = (sqlite3.Error, psycopg.Error)
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)

# The first schema. Every statement is idempotent, so a store made before
# versioning (user_version 0) is brought up to date by running it again.
SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS accounts (
  hub TEXT PRIMARY KEY,
  secret BLOB NOT NULL,
  address TEXT NOT NULL DEFAULT '',
  password_hash TEXT,
  policy TEXT NOT NULL DEFAULT 'if_no_one_cancels'
    CHECK (policy IN ('if_no_one_cancels', 'only_if_i_say')),
  call_next_contacts INTEGER NOT NULL DEFAULT 0,
  test_interval_s INTEGER NOT NULL DEFAULT 3600,
  availability TEXT,
  last_test_ms INTEGER,
  last_command_id INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
  hub TEXT NOT NULL REFERENCES accounts(hub) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  phone TEXT NOT NULL,
  PRIMARY KEY (hub, position)
);
CREATE TABLE IF NOT EXISTS signals (
  id INTEGER PRIMARY KEY,
  hub TEXT NOT NULL,
  seq INTEGER NOT NULL,
  code TEXT NOT NULL,
  body TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  case_id INTEGER,
  UNIQUE (hub, seq)
);
CREATE TABLE IF NOT EXISTS cases (
  id INTEGER PRIMARY KEY,
  hub TEXT NOT NULL,
  plan TEXT NOT NULL,
  service TEXT,
  status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'dispatched', 'cancelled', 'closed')),
  waiting TEXT,
  contact INTEGER,
  keypad_cancel INTEGER NOT NULL DEFAULT 0,
  password_ok INTEGER,
  trouble TEXT,
  opened_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  end_reason TEXT
);
CREATE INDEX IF NOT EXISTS cases_open ON cases (hub, status);
CREATE TABLE IF NOT EXISTS timeline (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  t INTEGER NOT NULL,
  step TEXT NOT NULL,
  contact INTEGER,
  service TEXT,
  reason TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS timeline_case ON timeline (case_id, id);
CREATE TABLE IF NOT EXISTS calls (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  contact INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ringing', 'answered', 'no_answer', 'ended')),
  password_ok INTEGER,
  request TEXT,
  placed_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS timers (
  id INTEGER PRIMARY KEY,
  due_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  hub TEXT,
  case_id INTEGER,
  call_id INTEGER,
  payload TEXT
);
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_ms);
-- A case is dispatched at most once: the primary key makes a second dispatch fail.
CREATE TABLE IF NOT EXISTS dispatches (
  case_id INTEGER PRIMARY KEY REFERENCES cases(id),
  service TEXT NOT NULL,
  reason TEXT NOT NULL,
  t INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  n INTEGER NOT NULL
);
"""

# Emission from the store (docs/monitoring.md, "Nothing said is lost"): a step
# is emitted only after its transaction committed, from what was committed,
# and its outbox row is deleted once it was delivered. A row whose claim is
# older than the lease belongs to a process that died: another one delivers it.
# Cases: a dispatched case stays with the responders until an operator closes
# it (closed_ms); a held case becomes overdue after the hold time.
SCHEMA_2 = """
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY REFERENCES timeline(id),
  claimed_ms INTEGER NOT NULL
);
ALTER TABLE cases ADD COLUMN closed_ms INTEGER;
ALTER TABLE cases ADD COLUMN hold_until_ms INTEGER;
ALTER TABLE cases ADD COLUMN overdue INTEGER NOT NULL DEFAULT 0;
"""

# Version 3 rebuilds the signals table (SQLite cannot change a UNIQUE constraint
# in place); the ids are kept, so cases and timelines still point at them.
SCHEMA_3 = """
ALTER TABLE signals RENAME TO signals_before_epochs;
-- A signal is known by its whole signed body, not only (hub, seq): a hub
-- whose seqs started again (its flash wiped) sends new signals under old
-- seqs, and those must be acted on (see cases.Desk.signal). epoch: the hub's
-- install epoch from the event, when it sends one.
CREATE TABLE signals (
  id INTEGER PRIMARY KEY,
  hub TEXT NOT NULL,
  seq INTEGER NOT NULL,
  epoch INTEGER,
  code TEXT NOT NULL,
  body TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  case_id INTEGER,
  UNIQUE (hub, seq, body)
);
INSERT INTO signals (id, hub, seq, code, body, received_ms, case_id)
  SELECT id, hub, seq, code, body, received_ms, case_id FROM signals_before_epochs;
DROP TABLE signals_before_epochs;
"""

# Version 4: SIA DC-09, the second path (monitor/dc09/). An account may name
# the hub's DC-09 account number and key; a signal records which path(s)
# brought it ("mqtt", "dc09", "mqtt,dc09"), so a person can tell. A unique
# index, not a UNIQUE column: SQLite cannot add a constrained column, and
# both SQLite and PostgreSQL let many accounts leave it NULL.
SCHEMA_4 = """
ALTER TABLE accounts ADD COLUMN dc09_account TEXT;
ALTER TABLE accounts ADD COLUMN dc09_key TEXT;
ALTER TABLE accounts ADD COLUMN dc09_heard_ms INTEGER;
CREATE UNIQUE INDEX IF NOT EXISTS accounts_dc09_account ON accounts (dc09_account);
ALTER TABLE signals ADD COLUMN paths TEXT;
CREATE INDEX IF NOT EXISTS signals_identity ON signals (hub, epoch, seq);
"""

# Version 5: a hub's timers found by hub: its test timer is moved on every test report
# and armed for every account at start. Without the index each of those scanned
# every timer: 200,000 accounts took the service over 13 minutes to start.
SCHEMA_5 = """
CREATE INDEX IF NOT EXISTS timers_hub ON timers (hub, kind);
"""

# The store's schema as a plain list: entry N (from 1) takes a store from
# version N-1 to N (SQLite: PRAGMA user_version; PostgreSQL: the
# schema_version table). Append new versions; never edit one that has shipped.
# PostgreSQL starts at version 3 (pg_schema.BASELINE, the same tables) and
# runs every later entry too, so write them in SQL both take (ALTER TABLE ...
# ADD COLUMN, CREATE TABLE/INDEX; INTEGER and BLOB become BIGINT and BYTEA
# there, see Store.script); the test suite runs on both.
MIGRATIONS = [SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4, SCHEMA_5]


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
    def tx(self):
        """A write transaction: committed whole, or rolled back whole.
        SQLite: BEGIN IMMEDIATE takes the one write lock up front. PostgreSQL:
        transactions run side by side; what they decide per hub they decide
        under lock_hubs."""
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

    def _execute(self, sql, args):
        self._ready()
        try:
            return self.db.execute(sql, args)
        except psycopg.OperationalError:
            # A connection the server dropped (a restart) is only found out on
            # its next use. Outside a transaction, with the connection gone,
            # the statement never ran: once more on a new connection.
            if self._in_tx or not self.db.closed:
                raise
            self._connect()
            return self.db.execute(sql, args)

    def q(self, sql, *args):
        return self._execute(sql, args).fetchall()

    def one(self, sql, *args):
        return self._execute(sql, args).fetchone()

    def x(self, sql, *args):
        """A write; the number of rows it changed."""
        return self._execute(sql, args).rowcount

    def insert(self, sql, *args):
        """An INSERT into a table with an `id` key: the new row's id, or None
        when ON CONFLICT DO NOTHING left it out."""
        row = self.db.execute(sql + " RETURNING id", args).fetchone()
        return row[0] if row is not None else None

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
