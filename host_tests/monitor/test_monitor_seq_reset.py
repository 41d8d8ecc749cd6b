"""A hub whose seqs start again (its flash wiped) sends new signals under seqs
the service has stored: they are new signals, acted on, and the reset itself
opens a trouble case. A resend of the very same signal is still a duplicate."""
import json
import sqlite3

from uplink import wire

from desk_helpers import SECRET, add_account, query
from monitor.store import Store
from waiting import until


def event(seq, code, epoch=None, t=1700000000, **extra):
    sig = dict({"code": code, "event": int(code[1:]), "qualifier": code[0], "seq": seq,
                "zone": 0}, **extra)
    return wire.event(SECRET, "hub-1", t, sig, epoch)


def test_a_known_seq_with_another_body_opens_its_case_and_a_reset_trouble(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    for seq, code in ((1, "E305"), (2, "R401"), (3, "E401")):
        h.publish("hub-1", "events", event(seq, code, epoch=11))
    assert until(lambda: rx.counters().get("stored") == 3)
    h.publish("hub-1", "events", event(2, "R401", epoch=11))        # a resend: a duplicate
    assert until(lambda: rx.counters().get("duplicate") == 1)
    assert not lines.where(plan="trouble")
    # Wiped: a new epoch, seqs from 1 again; the panic comes as seq 2.
    h.publish("hub-1", "events", event(1, "E305", epoch=99))
    h.publish("hub-1", "events", event(2, "E120", epoch=99, name="keypad"))
    panic = lines.wait(plan="panic", step="open")
    assert panic["seq"] == 2
    trouble = lines.wait(plan="trouble", step="open")
    assert trouble["reason"] == "seq_reset" and trouble["seq"] == 1 and trouble["epoch"] == 99
    assert until(lambda: ("hub-1", 2) in h.acked)
    assert len(lines.where(plan="trouble", step="open")) == 1     # one case for the reset
    assert rx.counters()["seq_reset"] == 2 and rx.counters()["stored"] == 5
    assert len(query(db, "SELECT * FROM signals WHERE seq = 2")) == 2
    from monitor.web.views import next_step
    case = query(db, "SELECT * FROM cases WHERE plan = 'trouble'")[0]
    assert "sequence numbers started again" in next_step(None, case)   # what the operator reads


def test_a_hub_without_epochs_that_starts_again_is_heard_too(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    h.publish("hub-1", "events", event(1, "E401", t=1700000000))
    h.publish("hub-1", "events", event(2, "E406", t=1700000001))
    assert until(lambda: rx.counters().get("stored") == 2)
    h.publish("hub-1", "events", event(1, "E130", t=1700000500, zone=3))
    lines.wait(plan="burglar", step="open")
    lines.wait(plan="trouble", step="open", reason="seq_reset")


def test_a_cancel_from_before_the_reset_never_cancels_a_new_burglary(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    h.publish("hub-1", "events", event(7, "E406", epoch=11))
    assert until(lambda: rx.counters().get("stored") == 1)
    h.publish("hub-1", "events", event(3, "E130", epoch=12, zone=3))
    case = lines.wait(plan="burglar", step="open")
    lines.wait(case=case["case"], step="call")
    assert not lines.where(case=case["case"], step="keypad_cancel")


def test_an_overflow_report_under_the_seq_it_dropped_is_no_reset(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    h.publish("hub-1", "events", event(4, "R401", epoch=5))
    assert until(lambda: rx.counters().get("stored") == 1)
    h.publish("hub-1", "events", event(4, "E624", epoch=5, dropped=1, lost=[4]))
    h.publish("hub-1", "events", event(5, "E602", epoch=5))      # handled after the E624
    assert until(lambda: rx.counters().get("stored") == 3)
    assert "seq_reset" not in rx.counters() and not lines.where(plan="trouble")


def test_a_store_from_before_epochs_is_migrated(sqlite_db):
    db = sqlite_db      # PostgreSQL starts after epochs (monitor/pg.py's baseline)
    old = sqlite3.connect(db)
    old.execute("CREATE TABLE signals (id INTEGER PRIMARY KEY, hub TEXT NOT NULL, seq INTEGER "
                "NOT NULL, code TEXT NOT NULL, body TEXT NOT NULL, received_ms INTEGER NOT "
                "NULL, case_id INTEGER, UNIQUE (hub, seq))")
    old.execute("INSERT INTO signals VALUES (5, 'hub-1', 3, 'E130', '{}', 1, NULL)")
    old.commit()
    old.close()
    Store(db).close()
    rows = query(db, "SELECT * FROM signals")
    assert rows == [{"id": 5, "hub": "hub-1", "seq": 3, "epoch": None, "code": "E130",
                     "body": "{}", "received_ms": 1, "case_id": None}]
    store = Store(db)
    with store.tx():
        store.db.execute("INSERT INTO signals (hub, seq, code, body, received_ms) "
                         "VALUES ('hub-1', 3, 'E120', ?, 2)", (json.dumps({"a": 1}),))
    store.close()
    assert len(query(db, "SELECT * FROM signals")) == 2
