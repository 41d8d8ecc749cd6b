"""The case store failing under a running service, for real: the SQLite file on
a filesystem that fills up. While it is full no signal is acked (the hub keeps
it), the failure is counted, logged once, and /health says so; once space is
back the service stores and acks every one of them, once, with no restart and
no resend from the hub."""
import json
import logging
import sqlite3

import pytest

from desk_helpers import add_account, query
from small_fs import SmallFs
from waiting import until
from web_helpers import add_operator, client_for, login

N_SIGNALS = 20


@pytest.fixture
def small_fs(tmp_path):
    fs = SmallFs(tmp_path / "fs")
    yield fs
    fs.unmount()


@pytest.fixture
def db(small_fs):
    """The store on the small filesystem (the monitor fixture takes it from here)."""
    return small_fs.where + "/monitor.db"


def _health(client):
    r = client.get("/health")
    return r.status_code, r.json()


def test_a_full_disk_holds_signals_unacked_and_the_service_recovers_by_itself(
        db, small_fs, monitor, hubs, caplog):
    add_account(db)
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=600)
    client, web = client_for(rx)
    login(client)
    public, _ = client_for(rx)          # no session: what the world sees
    h = hubs()
    h.signal("hub-1", "E602", zone=0)
    assert h.wait_acked(timeout=10)
    # No slack left in the WAL: the next commit needs new blocks, and there are none.
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    caplog.set_level(logging.INFO, logger="monitor")
    small_fs.fill()

    keys = [("hub-1", h.signal("hub-1", "E602" if i % 5 else "E130", zone=1))
            for i in range(N_SIGNALS)]
    # Every one reached the service and waits there, unacked.
    assert until(lambda: rx.health_report()["signals"]["held_unacked"] == N_SIGNALS, 20), \
        rx.health_report()
    assert not any(k in h.acked for k in keys)
    status, seen = _health(client)
    assert status == 503 and seen["ok"] is False and seen["status"] == "store failing"
    assert "full" in seen["store"]["last_error"], seen["store"]
    assert seen["store"]["failures"] >= 1 and seen["store"]["failing_since_ms"]
    assert seen["signals"]["oldest_unacked_s"] is not None
    assert seen["broker"]["connected"] and seen["engine"]["alive"]
    assert _health(public) == (503, {"ok": False, "status": "store failing"})
    # The retries go on: still failing, still nothing acked.
    failures = seen["store"]["failures"]
    assert until(lambda: rx.health_report()["store"]["failures"] >= failures + 2, 20)
    assert not any(k in h.acked for k in keys)

    small_fs.free()
    # No resend from the hub: the service retries what it holds by itself.
    assert h.wait_acked(keys, timeout=30), "acked %d of %d" % (
        sum(k in h.acked for k in keys), len(keys))
    stored = query(db, "SELECT seq, COUNT(*) AS n FROM signals WHERE hub = 'hub-1' "
                       "GROUP BY seq")
    assert {r["seq"]: r["n"] for r in stored} == {s: 1 for s in range(1, N_SIGNALS + 2)}
    # The burglaries were acted on once each into one case (follow-ups join it).
    assert len(query(db, "SELECT id FROM cases WHERE plan = 'burglar'")) == 1
    status, seen = _health(client)
    assert status == 200 and seen["ok"] and seen["store"]["ok"], seen
    assert seen["store"]["recovered"] == 1 and seen["signals"]["held_unacked"] == 0
    assert _health(public) == (200, {"ok": True, "status": "ok"})

    # Told once when it started failing and once when it came back, without a traceback.
    said = [r for r in caplog.records if r.name == "monitor"]
    assert [r.getMessage().split(":")[0].split(" after")[0] for r in said
            if "case store" in r.getMessage()] == ["case store failing", "case store back"], \
        [r.getMessage() for r in said]
    assert not [r for r in said if r.exc_info], [r.getMessage() for r in said]
    assert "secret" not in json.dumps(seen)
