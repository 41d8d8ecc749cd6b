"""The case store: one SQLite file in WAL mode, shared by every worker process.

Every state change (a signal, its case, the call, the timer, the dispatch) is
written in one transaction; writers take the lock up front (BEGIN IMMEDIATE) so
two workers never decide on the same case from the same stale read."""
import contextlib
import json
import os
import sqlite3

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

# The store's schema as a plain list: entry N (from 1) takes a store from
# version N-1 to N (PRAGMA user_version). Append new versions; never edit one
# that has shipped.
MIGRATIONS = [SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4]


class Store:
    """One connection to the case store. Not shared between threads."""

    def __init__(self, path, timeout_s=30.0, create=True):
        self.path = path
        if create:
            _private_files(path)
        self.db = sqlite3.connect(path, timeout=timeout_s, isolation_level=None,
                                  check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # An ack tells the hub it may forget the signal, so the commit must be on disk.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        if not create:
            return
        self.migrate()

    def migrate(self):
        with self.tx():
            have = self.one("PRAGMA user_version")[0]
            for version, sql in enumerate(MIGRATIONS[have:], have + 1):
                for stmt in sql.split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
                self.db.execute("PRAGMA user_version = %d" % version)

    @contextlib.contextmanager
    def tx(self):
        """A write transaction: committed whole, or rolled back whole."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextlib.contextmanager
    def savepoint(self, name="item"):
        """Inside tx(): one item of a batch that can fail without failing the others."""
        self.db.execute("SAVEPOINT " + name)
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK TO " + name)
            self.db.execute("RELEASE " + name)
            raise
        self.db.execute("RELEASE " + name)

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def one(self, sql, *args):
        return self.db.execute(sql, args).fetchone()

    def count(self, name, n=1):
        self.db.execute("INSERT INTO counters (name, n) VALUES (?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET n = n + excluded.n", (name, n))

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
