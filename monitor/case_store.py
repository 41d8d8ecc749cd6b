"""The SQL of the plans and the engine: cases, their timeline and outbox,
signals, calls, dispatches, timers, and the account fields they read.

Every function takes the Store and runs inside the caller's transaction
(Store.tx); none commits. Rows come back as the store gives them (read by
column name), cases as dicts (the plan updates its copy as it sets fields).
The table definitions are in store.py and pg_schema.py."""
import json


# ---- cases ----

def case(store, case_id):
    """The case's row, or None."""
    return store.one("SELECT * FROM cases WHERE id = ?", case_id)


def new_case(store, hub, plan, service, trouble, t):
    """A new open case, waiting for an operator's acknowledgement from t; its row."""
    return store.one(
        "INSERT INTO cases (hub, plan, service, trouble, opened_ms, attention_ms) "
        "VALUES (?,?,?,?,?,?) RETURNING *", hub, plan, service, trouble, t, t)


def set_case(store, case_id, fields):
    """Set these columns of the case, in one statement (on PostgreSQL each is a round trip)."""
    store.db.execute("UPDATE cases SET %s WHERE id = ?" % ", ".join("%s = ?" % k for k in fields),
                     tuple(fields.values()) + (case_id,))


def open_cases(store, hub, plan=None):
    """The hub's open cases (of this plan), oldest first, as dicts."""
    sql = "SELECT * FROM cases WHERE hub = ? AND status = 'open'"
    args = [hub]
    if plan:
        sql += " AND plan = ?"
        args.append(plan)
    return [dict(r) for r in store.q(sql + " ORDER BY id", *args)]


def listed(store, case_id):
    """Is the case on the operator's open list: open, or dispatched or
    cancelled and not yet closed by an operator?"""
    return store.one("SELECT 1 FROM cases WHERE id = ? AND (status = 'open' OR "
                     "(status IN ('dispatched', 'cancelled') AND closed_ms IS NULL))",
                     case_id) is not None


def standing_duress(store, hub):
    """The hub's latest duress case not yet closed by an operator, or None."""
    row = store.one("SELECT * FROM cases WHERE hub = ? AND plan = 'duress' "
                    "AND status IN ('open', 'dispatched') AND closed_ms IS NULL "
                    "ORDER BY id DESC LIMIT 1", hub)
    return dict(row) if row else None


def live_cases(store, hub):
    """The hub's cases a signal may act on, oldest first, as dicts: the open
    ones, and those dispatched and not yet closed by an operator, with their
    dispatch's service and time (sent_service, sent_ms). What standing_duress,
    open_cases and dispatched_since read, in one statement."""
    return [dict(r) for r in store.q(
        "SELECT cases.*, dispatches.service AS sent_service, dispatches.t AS sent_ms "
        "FROM cases LEFT JOIN dispatches ON dispatches.case_id = cases.id WHERE cases.hub = ? "
        "AND (cases.status = 'open' OR (cases.status = 'dispatched' AND cases.closed_ms IS NULL)) "
        "ORDER BY cases.id", hub)]


def dispatched_since(store, hub, service, since_ms):
    """The hub's latest case that sent `service` at or after since_ms, not closed, or None."""
    row = store.one(
        "SELECT cases.* FROM cases JOIN dispatches ON dispatches.case_id = cases.id "
        "WHERE cases.hub = ? AND cases.status = 'dispatched' AND cases.closed_ms IS NULL "
        "AND dispatches.service = ? AND dispatches.t >= ? ORDER BY cases.id DESC LIMIT 1",
        hub, service, since_ms)
    return dict(row) if row else None


def end_case(store, case_id):
    """A case ends: its live calls end and its timers go (the case's fields are
    set_case's), but for the wait on an acknowledgement: a dispatched or
    cancelled case stays on the operator's list until an operator closes it."""
    store.db.execute("UPDATE calls SET status = 'ended' WHERE case_id = ? "
                     "AND status IN ('ringing', 'answered')", (case_id,))
    store.db.execute("DELETE FROM timers WHERE case_id = ? AND kind <> 'ack_due'", (case_id,))


def drop_ack_timers(store, case_id):
    store.db.execute("DELETE FROM timers WHERE case_id = ? AND kind = 'ack_due'", (case_id,))


def sent_by_duress(store, case_id, service):
    """Was `service` already sent on this duress case (its timeline's dispatch steps)?"""
    return store.one("SELECT 1 FROM timeline WHERE case_id = ? AND step = 'dispatch' "
                     "AND service = ?", case_id, service) is not None


def dispatch_time(store, case_id):
    """When the case's service was sent (ms), or None."""
    row = store.one("SELECT t FROM dispatches WHERE case_id = ?", case_id)
    return row["t"] if row is not None else None


def add_dispatch(store, case_id, service, reason, t):
    """At most once per case: the primary key refuses a second row."""
    store.db.execute("INSERT INTO dispatches (case_id, service, reason, t) VALUES (?,?,?,?)",
                     (case_id, service, reason, t))


# ---- the timeline and its outbox ----

def add_step(store, case_id, t, step, contact, service, reason, detail):
    """A timeline step (detail: its JSON text or None), queued in the outbox
    as claimed by this process at t; its id."""
    if store.postgres:
        # Both rows in one statement: a round trip fewer per step, on the
        # alarm's way to its case. In a pipeline (Store.tx(piped=True)) the id
        # is read once the transaction is in: a function that returns it.
        cur = store.db.execute(
            "WITH step AS (INSERT INTO timeline (case_id, t, step, contact, service, reason, "
            "detail) VALUES (?,?,?,?,?,?,?) RETURNING id) INSERT INTO outbox (id, claimed_ms) "
            "SELECT id, ? FROM step RETURNING id",
            (case_id, t, step, contact, service, reason, detail, t))
        if store.db.pipe is not None:
            return lambda: cur.fetchone()["id"]
        return cur.fetchone()["id"]
    step_id = store.insert(
        "INSERT INTO timeline (case_id, t, step, contact, service, reason, detail) "
        "VALUES (?,?,?,?,?,?,?)", case_id, t, step, contact, service, reason, detail)
    store.db.execute("INSERT INTO outbox (id, claimed_ms) VALUES (?, ?)", (step_id, t))
    return step_id


# ---- signals ----

def signal_by_code(store, hub, epoch, seq, code):
    """The signal stored under (hub, epoch, seq) with this Contact ID code: (id, paths), or None."""
    return store.one("SELECT id, paths FROM signals WHERE hub = ? AND epoch = ? "
                     "AND seq = ? AND code = ?", hub, epoch, seq, code)


def new_signal(store, hub, seq, epoch, code, body, t, path):
    """Store a signal (body: its JSON text), unless (hub, seq, body) is taken
    or, with an epoch, (hub, epoch, seq, code) is (signal_by_code): a
    function returning its id, or None when it was not stored (Store.soon)."""
    rows = store.soon(
        "INSERT INTO signals (hub, seq, epoch, code, body, received_ms, paths) "
        "SELECT ?,?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM signals WHERE hub = ? "
        "AND epoch = ? AND seq = ? AND code = ?) ON CONFLICT DO NOTHING RETURNING id",
        hub, seq, epoch, code, body, t, path, hub, epoch, seq, code)
    return lambda: next((r["id"] for r in rows()), None)


def signal_by_body(store, hub, seq, body):
    """The signal stored under (hub, seq) with this very body: (id, paths), or None."""
    return store.one("SELECT id, paths FROM signals WHERE hub = ? AND seq = ? AND body = ?",
                     hub, seq, body)


def panel_signals_since(store, hub, seq, code, since_ms):
    """The hub's signals without an epoch (a stock panel's) under this seq
    and code, received since since_ms: (id, paths, body) rows."""
    return store.q("SELECT id, paths, body FROM signals WHERE hub = ? AND seq = ? AND code = ? "
                   "AND epoch IS NULL AND received_ms >= ?", hub, seq, code, since_ms)


def set_signal_paths(store, signal_id, paths):
    store.db.execute("UPDATE signals SET paths = ? WHERE id = ?", (paths, signal_id))


def set_signal_case(store, signal_id, case_id):
    store.db.execute("UPDATE signals SET case_id = ? WHERE id = ?", (case_id, signal_id))


def same_seq_others(store, hub, seq, body):
    """The hub's signals under this seq with another body: (epoch, body)
    rows, once asked (Store.soon). Read just after a signal with this body
    is stored, they are the others under its seq ((hub, seq, body) is unique)."""
    return store.soon("SELECT epoch, body FROM signals WHERE hub = ? AND seq = ? AND body <> ?",
                      hub, seq, body)


def first_later(store, hub, code, seq, epoch):
    """The hub's first signal with this code after seq, within the epoch: (seq,
    body) rows (one or none), once asked (Store.soon)."""
    return store.soon("SELECT seq, body FROM signals WHERE hub = ? AND code = ? "
                      "AND seq > ? AND epoch IS NOT DISTINCT FROM ? "
                      "ORDER BY seq LIMIT 1", hub, code, seq, epoch)


# ---- calls ----

def contact(store, hub, position):
    return store.one("SELECT * FROM contacts WHERE hub = ? AND position = ?", hub, position)


def contact_soon(store, hub, position):
    """contact(), once asked (Store.soon): rows, one or none."""
    return store.soon("SELECT * FROM contacts WHERE hub = ? AND position = ?", hub, position)


def contact_after(store, hub, position):
    """Is there a contact after this position?"""
    return store.one("SELECT 1 FROM contacts WHERE hub = ? AND position > ?",
                     hub, position) is not None


def new_call(store, case_id, position, t):
    """A call ringing now; its id."""
    return store.insert(
        "INSERT INTO calls (case_id, contact, status, placed_ms) VALUES (?,?,'ringing',?)",
        case_id, position, t)


def call(store, call_id):
    return store.one("SELECT * FROM calls WHERE id = ?", call_id)


def case_of_call(store, call_id):
    """The call's case id, or None."""
    row = store.one("SELECT case_id FROM calls WHERE id = ?", call_id)
    return row["case_id"] if row is not None else None


def set_call_status(store, call_id, status):
    store.db.execute("UPDATE calls SET status = ? WHERE id = ?", (status, call_id))


def set_call_password(store, call_id, ok):
    store.db.execute("UPDATE calls SET password_ok = ? WHERE id = ?", (int(ok), call_id))


def end_call(store, call_id, request):
    store.db.execute("UPDATE calls SET status = 'ended', request = ? WHERE id = ?",
                     (request, call_id))


def call_in_progress(store, case_id):
    return store.one("SELECT 1 FROM calls WHERE case_id = ? AND status IN "
                     "('ringing', 'answered')", case_id) is not None


def answered_call(store, case_id):
    """The case's latest answered call's id, or None."""
    row = store.one("SELECT id FROM calls WHERE case_id = ? AND status = 'answered' "
                    "ORDER BY id DESC LIMIT 1", case_id)
    return row["id"] if row is not None else None


# ---- timers ----

def add_timer(store, due, kind, hub=None, case_id=None, call_id=None, payload=None):
    """payload: its JSON text or None."""
    store.timer_written(due)
    store.db.execute(
        "INSERT INTO timers (due_ms, kind, hub, case_id, call_id, payload) VALUES (?,?,?,?,?,?)",
        (due, kind, hub, case_id, call_id, payload))


def drop_call_timers(store, call_id):
    store.db.execute("DELETE FROM timers WHERE call_id = ?", (call_id,))


def drop_hold_timer(store, case_id):
    store.db.execute("DELETE FROM timers WHERE case_id = ? AND kind = 'hold_due'", (case_id,))


def move_test_timer(store, hub, due):
    """Move the hub's test-report timer; False when it has none."""
    store.timer_written(due)
    return bool(store.x("UPDATE timers SET due_ms = ? WHERE kind = 'test_due' AND hub = ?",
                        due, hub))


def has_test_timer(store, hub):
    return store.one("SELECT 1 FROM timers WHERE kind = 'test_due' AND hub = ?", hub) is not None


def hubs_without_test_timer(store, after=None, upto=None):
    """(hub, last_test_ms, created_ms) of the accounts whose test timer is
    missing; with after and upto, of those with after < hub <= upto only."""
    if upto is None:
        return store.q("SELECT hub, last_test_ms, created_ms FROM accounts a WHERE NOT EXISTS "
                       "(SELECT 1 FROM timers t WHERE t.kind = 'test_due' AND t.hub = a.hub)")
    # The timers' side bounded too, or PostgreSQL hashes every test timer. NOT
    # IN, not NOT EXISTS: on accounts just imported, not yet analysed,
    # PostgreSQL planned NOT EXISTS as a nested loop over the slice's timers
    # per account (1.5 s for 5,000); NOT IN is hashed whatever it guesses.
    # (The range leaves out a NULL hub, which would make NOT IN match nothing.)
    return store.q("SELECT hub, last_test_ms, created_ms FROM accounts a WHERE hub > ? "
                   "AND hub <= ? AND hub NOT IN (SELECT t.hub FROM timers t WHERE t.kind = "
                   "'test_due' AND t.hub > ? AND t.hub <= ?)",
                   after, upto, after, upto)


def account_after(store, after, n):
    """The hub n accounts after `after` in hub order (or the last one), or None: none after."""
    return store.one("SELECT MAX(hub) AS hub FROM (SELECT hub FROM accounts WHERE hub > ? "
                     "ORDER BY hub LIMIT ?) AS slice", after, n)["hub"]


# ---- the account, as the plans and the engine read it ----

def dispatch_rules(store, hub):
    """(policy, call_next_contacts) of the hub's account."""
    return store.one("SELECT policy, call_next_contacts FROM accounts WHERE hub = ?", hub)


def policy(store, hub):
    return store.one("SELECT policy FROM accounts WHERE hub = ?", hub)["policy"]


def test_interval_s(store, hub):
    return store.one("SELECT test_interval_s FROM accounts WHERE hub = ?", hub)["test_interval_s"]


def test_received(store, hub, t):
    """Record a test report at t; the account's test interval (s)."""
    return store.one("UPDATE accounts SET last_test_ms = ? WHERE hub = ? "
                     "RETURNING test_interval_s", t, hub)["test_interval_s"]


def availability(store, hub):
    """The hub's last availability ("online", "offline", None), or False: no account."""
    row = store.one("SELECT availability FROM accounts WHERE hub = ?", hub)
    return False if row is None else row["availability"]


def set_availability(store, hub, state):
    store.db.execute("UPDATE accounts SET availability = ? WHERE hub = ?", (state, hub))


def heard_by_dc09(store, hub, t):
    store.db.execute("UPDATE accounts SET dc09_heard_ms = ? WHERE hub = ?", (t, hub))


def next_command_id(store, hub, floor):
    """Take the hub's next command id, never below floor: (secret, id), or None: no account."""
    row = store.one("SELECT secret, last_command_id FROM accounts WHERE hub = ?", hub)
    if row is None:
        return None
    cid = max(row["last_command_id"] + 1, floor)
    store.db.execute("UPDATE accounts SET last_command_id = ? WHERE hub = ?", (cid, hub))
    return bytes(row["secret"]), cid


# ---- a batch's routine signals at once (PostgreSQL: a statement for the batch) ----
# The rows go to the server as one JSON text (json_to_recordset): psycopg
# dumps arrays of text element by element in Python; json.dumps is C. A
# signal's body goes in as a JSON value, not a string: a `json` column keeps
# its text as written, which sort_keys makes exactly json.dumps(body,
# sort_keys=True), the text Desk.signal stores; one encoding, not two.

def _records(columns, rows):
    return json.dumps([dict(zip(columns, row)) for row in rows], sort_keys=True)


def store_signals(store, rows, t, path):
    """Store signals [(hub, seq, epoch, code, body dict)] received at t, each
    under its own (hub, seq), in one round trip: the rows already under
    their (hub, seq), each with whether it is that signal by its identity
    (known: the same epoch, seq and code) or by its body (same), and new
    rows (new: true, id) for those stored. Those known by identity are not
    stored again; one whose (hub, seq, body) is taken is not stored either.
    The signals already there are read before the insert: every part of the
    statement sees the table as it was when the statement began."""
    if not store.postgres:
        return _store_signals_each(store, rows, t, path)
    return store.q_unprepared(
        "WITH k AS MATERIALIZED (SELECT * FROM json_to_recordset(?::json) AS k (hub text, "
        "seq bigint, epoch bigint, code text, body json)), "
        "pre AS MATERIALIZED (SELECT s.id, s.paths, s.hub, s.seq, s.epoch, s.body, "
        "COALESCE(s.epoch = k.epoch AND s.code = k.code, false) AS known, "
        "s.body = k.body::text AS same FROM signals s JOIN k ON s.hub = k.hub AND s.seq = k.seq), "
        "ins AS (INSERT INTO signals (hub, seq, epoch, code, body, received_ms, paths) "
        "SELECT k.hub, k.seq, k.epoch, k.code, k.body::text, ?, ? FROM k WHERE NOT EXISTS "
        "(SELECT 1 FROM pre WHERE pre.hub = k.hub AND pre.seq = k.seq AND pre.known) "
        "ON CONFLICT DO NOTHING RETURNING id, hub, seq) "
        "SELECT id, paths, hub, seq, epoch, body, known, same, false AS new FROM pre "
        "UNION ALL SELECT id, NULL, hub, seq, NULL, NULL, false, false, true FROM ins",
        _records(("hub", "seq", "epoch", "code", "body"), rows), t, path)


def _store_signals_each(store, rows, t, path):
    """store_signals on SQLite: in the process, a statement costs no round
    trip, so a signal at a time, with the same answer. The batch's signals
    are each under their own (hub, seq), so reading one's before storing it
    is reading all of them before the first is stored."""
    out = []
    for hub, seq, epoch, code, body in rows:
        text = json.dumps(body, sort_keys=True)
        known = False
        for r in store.q("SELECT id, paths, hub, seq, epoch, code, body FROM signals "
                         "WHERE hub = ? AND seq = ?", hub, seq):
            # PostgreSQL's COALESCE(s.epoch = k.epoch AND s.code = k.code, false).
            by_id = epoch is not None and r["epoch"] == epoch and r["code"] == code
            known = known or by_id
            out.append({"id": r["id"], "paths": r["paths"], "hub": hub, "seq": seq,
                        "epoch": r["epoch"], "body": r["body"], "known": by_id,
                        "same": r["body"] == text, "new": False})
        if known:
            continue
        new = store.one("INSERT INTO signals (hub, seq, epoch, code, body, received_ms, paths) "
                        "VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id",
                        hub, seq, epoch, code, text, t, path)
        if new is not None:
            out.append({"id": new["id"], "paths": None, "hub": hub, "seq": seq, "epoch": None,
                        "body": None, "known": False, "same": False, "new": True})
    return out


def tests_received(store, hubs, t, grace_ms):
    """Record a test report at t from each hub and move its test-report timer
    to t + its test interval + grace_ms, in one statement: {hub: (that due
    time, whether it had a timer to move, whether it has an open trouble
    case for an overdue test)}."""
    if not store.postgres:
        return _tests_received_each(store, hubs, t, grace_ms)
    got = {r["hub"]: (r["due"], r["moved"], r["overdue"]) for r in store.q_unprepared(
        "WITH got AS (UPDATE accounts SET last_test_ms = ? WHERE hub = ANY(?::text[]) "
        "RETURNING hub, ? + test_interval_s * 1000 + ? AS due), "
        "moved AS (UPDATE timers SET due_ms = got.due FROM got WHERE timers.kind = 'test_due' "
        "AND timers.hub = got.hub RETURNING timers.hub) "
        "SELECT got.hub, got.due, moved.hub IS NOT NULL AS moved, EXISTS (SELECT 1 FROM cases "
        "WHERE cases.hub = got.hub AND status = 'open' AND plan = 'trouble' "
        "AND trouble = 'test_overdue') AS overdue FROM got LEFT JOIN moved ON moved.hub = got.hub",
        t, list(hubs), t, grace_ms)}
    for due, moved, _overdue in got.values():
        if moved:
            store.timer_written(due)
    return got


def _tests_received_each(store, hubs, t, grace_ms):
    """tests_received on SQLite, a hub at a time (see _store_signals_each)."""
    got = {}
    for hub in hubs:
        row = store.one("UPDATE accounts SET last_test_ms = ? WHERE hub = ? "
                        "RETURNING test_interval_s", t, hub)
        if row is None:
            continue                    # no account: PostgreSQL's UPDATE returns no row
        due = t + row["test_interval_s"] * 1000 + grace_ms
        moved = store.x("UPDATE timers SET due_ms = ? WHERE kind = 'test_due' AND hub = ?",
                        due, hub) > 0
        overdue = store.one("SELECT EXISTS (SELECT 1 FROM cases WHERE hub = ? AND status = "
                            "'open' AND plan = 'trouble' AND trouble = 'test_overdue') AS x",
                            hub)["x"]
        got[hub] = (due, moved, bool(overdue))
        if moved:
            store.timer_written(due)
    return got


def open_troubles(store, hubs, trouble):
    """The hubs' open trouble cases of this kind, oldest first, as dicts."""
    cond, args = store.among("hub", hubs)
    return [dict(r) for r in store.q_unprepared(
        "SELECT * FROM cases WHERE " + cond + " AND status = 'open' "
        "AND plan = 'trouble' AND trouble = ? ORDER BY id", *args, trouble)]
