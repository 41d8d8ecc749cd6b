"""The case store's schema, one source for SQLite and PostgreSQL.

MIGRATIONS is a plain list (other modules and tests append to it): entry N
(from 1) takes a store from version N-1 to N. SQLite runs every entry and
keeps its version in PRAGMA user_version. PostgreSQL keeps it in a
schema_version table and starts a new database at BASELINE_VERSION (3) with
the tables SQLite has at that version, made in one go (postgres_baseline():
SQLite cannot change a UNIQUE constraint in place, so its version 3 rebuilds
the signals table, which PostgreSQL has no need to), plus what only PostgreSQL
has (monitor/pg_schema.py); then it runs every later entry too. All of it is
written in SQLite's DDL; PostgreSQL gets its types from pg.ddl (Store.script).

host_tests/monitor/test_monitor_schema.py checks that a new store and a store
brought up from each older version have the very schema they had before this
module was made (schema_sqlite.txt, schema_postgresql.txt)."""

# The signals table's columns: SIGNALS_1 until version 3, SIGNALS_3 since.
SIGNALS_1 = """signals (
  id INTEGER PRIMARY KEY,
  hub TEXT NOT NULL,
  seq INTEGER NOT NULL,
  code TEXT NOT NULL,
  body TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  case_id INTEGER,
  UNIQUE (hub, seq)
)"""
SIGNALS_3 = """signals (
  id INTEGER PRIMARY KEY,
  hub TEXT NOT NULL,
  seq INTEGER NOT NULL,
  epoch INTEGER,
  code TEXT NOT NULL,
  body TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  case_id INTEGER,
  UNIQUE (hub, seq, body)
)"""

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
CREATE TABLE IF NOT EXISTS %s;
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
""" % SIGNALS_1

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
CREATE TABLE %s;
INSERT INTO signals (id, hub, seq, code, body, received_ms, case_id)
  SELECT id, hub, seq, code, body, received_ms, case_id FROM signals_before_epochs;
DROP TABLE signals_before_epochs;
""" % SIGNALS_3

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

# Version 6: the owner's app counts cancel attempts on an alarm before their
# verbal password is checked (app_guesses, so guesses sent at once count too)
# and the wrong ones (app_wrong); a few lock cancelling that alarm in the app.
SCHEMA_6 = """
ALTER TABLE cases ADD COLUMN app_guesses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN app_wrong INTEGER NOT NULL DEFAULT 0;
"""

# Version 7: the owners' app links (made by monitor/operators.py's ensure
# until now) expire; links made before get a week from when they were made.
SCHEMA_7 = """
CREATE TABLE IF NOT EXISTS owner_links (
  token_hash TEXT PRIMARY KEY,
  hub TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
ALTER TABLE owner_links ADD COLUMN expires_ms INTEGER;
UPDATE owner_links SET expires_ms = created_ms + 604800000;
CREATE INDEX IF NOT EXISTS owner_links_hub ON owner_links (hub);
"""

# Version 8: nothing joins unseen (response-plans.md, "Across cases of one
# hub"). A case waits for an operator's acknowledgement from when it opened or
# an alarm last joined it (attention_ms; NULL once acknowledged); update_ms:
# when an alarm last joined it unacknowledged, which puts it at the top of the
# open list. Cancelled cases now stay listed until an operator closes them too;
# those cancelled before stayed off the list, so they count as closed then.
SCHEMA_8 = """
ALTER TABLE cases ADD COLUMN attention_ms INTEGER;
ALTER TABLE cases ADD COLUMN update_ms INTEGER;
UPDATE cases SET closed_ms = ended_ms WHERE status = 'cancelled' AND closed_ms IS NULL;
"""

# The store's schema as a plain list: entry N (from 1) takes a store from
# version N-1 to N (SQLite: PRAGMA user_version; PostgreSQL: the
# schema_version table). Append new versions; never edit one that has shipped.
# PostgreSQL starts at version 3 (postgres_baseline(), the same tables) and
# runs every later entry too, so write them in SQL both take (ALTER TABLE ...
# ADD COLUMN, CREATE TABLE/INDEX; INTEGER and BLOB become BIGINT and BYTEA
# there, see Store.script); the test suite runs on both.
MIGRATIONS = [SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4, SCHEMA_5, SCHEMA_6, SCHEMA_7, SCHEMA_8]

BASELINE_VERSION = 3


def postgres_baseline():
    """SQLite's tables at BASELINE_VERSION, for a new PostgreSQL database (in
    SQLite's DDL: Store.script gives it PostgreSQL's types): versions 1 and 2
    with the signals table already in its version 3 form."""
    v1 = SCHEMA_1.replace("CREATE TABLE IF NOT EXISTS " + SIGNALS_1,
                          "CREATE TABLE IF NOT EXISTS " + SIGNALS_3)
    assert v1 != SCHEMA_1 and BASELINE_VERSION == 3
    return v1 + SCHEMA_2
