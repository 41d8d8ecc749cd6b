"""The case store failing under a running service, for real: the SQLite file on
a filesystem that fills up, and a PostgreSQL server that is stopped. While
the store fails no signal is acked (the hub keeps it), the failure is
counted, logged once, and /health says so; once the store is back the service
stores and acks every one of them, once, with no restart and no resend from
the hub."""
import json
import logging
import sqlite3

import pytest
from starlette.testclient import TestClient

from desk_helpers import add_account, query
from small_fs import SmallFs
from tools.postgres import PostgresServer, wait_ready
from waiting import until
from web_helpers import ORIGIN, add_operator, client_for, login

from monitor.web import app as webapp

N_SIGNALS = 20


class FullDisk:
    """The SQLite store on a small tmpfs; the fault: a ballast file takes the rest."""
    words = "full"

    def __init__(self, tmp_path):
        self.fs = SmallFs(tmp_path / "fs")
        self.db = self.fs.where + "/monitor.db"

    def begin(self):
        # No slack left in the WAL: the next commit needs new blocks, and there are none.
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        self.fs.fill()

    def end(self):
        self.fs.free()

    def remove(self):
        self.fs.unmount()


class StoppedPostgres:
    """A PostgreSQL server of the test's own (the session's is shared); the
    fault: `pg_ctl stop`, as an upgrade or a crash of the database host does."""
    words = None            # the driver's words vary: connection refused, terminated...

    def __init__(self, tmp_path):
        self.server = PostgresServer().start()
        self.db = self.server.create_database("faults")

    def begin(self):
        self.server.stop("fast")

    def end(self):
        self.server.start()
        wait_ready(self.server)

    def remove(self):
        self.server.remove()


@pytest.fixture(params=[FullDisk, StoppedPostgres], ids=["full_disk", "stopped_postgresql"])
def fault(request, tmp_path):
    made = request.param(tmp_path)
    yield made
    made.remove()


@pytest.fixture
def db(fault):
    """The store the fault is made on (the monitor fixture takes it from here)."""
    return fault.db


def _health(client):
    r = client.get("/health")
    return r.status_code, r.json()


def test_a_failing_store_holds_signals_unacked_and_the_service_recovers_by_itself(
        db, fault, monitor, hubs, caplog):
    add_account(db)
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=600)
    client, web = client_for(rx)
    login(client)
    public, _ = client_for(rx)          # no session: what the world sees
    # curl on the service's own machine (or a proxy there that names no client)
    local = TestClient(webapp.build(web), base_url=ORIGIN, client=("127.0.0.1", 50000))
    h = hubs()
    h.signal("hub-1", "E602", zone=0)
    assert h.wait_acked(timeout=10)
    caplog.set_level(logging.INFO, logger="monitor")
    fault.begin()

    keys = [("hub-1", h.signal("hub-1", "E602" if i % 5 else "E130", zone=1))
            for i in range(N_SIGNALS)]
    # Every one reached the service and waits there, unacked.
    assert until(lambda: rx.health_report()["signals"]["held_unacked"] == N_SIGNALS, 20), \
        rx.health_report()
    assert not any(k in h.acked for k in keys)
    # The operator logged in before the store failed still sees why (the session
    # remembered, the store that holds it being away); curl on the host does not.
    status, seen = _health(client)
    assert status == 503 and seen["ok"] is False and seen["status"] == "store failing"
    assert seen["store"]["last_error"], seen["store"]
    assert fault.words is None or fault.words in seen["store"]["last_error"], seen["store"]
    assert seen["store"]["failures"] >= 1 and seen["store"]["failing_since_ms"]
    assert seen["signals"]["oldest_unacked_s"] is not None
    assert seen["broker"]["connected"] and seen["engine"]["alive"]
    assert _health(public) == (503, {"ok": False, "status": "store failing"})
    assert _health(local) == (503, {"ok": False, "status": "store failing"})
    # The retries go on: still failing, still nothing acked.
    failures = seen["store"]["failures"]
    assert until(lambda: rx.health_report()["store"]["failures"] >= failures + 2, 20)
    assert not any(k in h.acked for k in keys)

    fault.end()
    # No resend from the hub: the service retries what it holds by itself.
    assert h.wait_acked(keys, timeout=30), "acked %d of %d" % (
        sum(k in h.acked for k in keys), len(keys))
    stored = query(db, "SELECT seq, COUNT(*) AS n FROM signals WHERE hub = 'hub-1' "
                       "GROUP BY seq")
    assert {r["seq"]: r["n"] for r in stored} == {s: 1 for s in range(1, N_SIGNALS + 2)}
    # The burglaries were acted on once each into one case (follow-ups join it).
    assert len(query(db, "SELECT id FROM cases WHERE plan = 'burglar'")) == 1
    # The report follows the engine's next look at the store, a moment after the acks.
    assert until(lambda: _health(client)[0] == 200, 10), _health(client)
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


def test_one_bad_signal_fails_alone_and_is_no_store_fault(sqlite_db, broker, prefix, hubs,
                                                         caplog):
    """A signed event the store cannot hold (a seq past 64 bits) among good ones:
    the good ones are stored and acked, the bad one is not, and the store is
    not reported failing for it."""
    from monitor.receiver import Receiver, Settings
    from uplink import wire
    add_account(sqlite_db)
    rx = Receiver(Settings(db=sqlite_db, port=broker.port, prefix=prefix))
    rx.start()
    try:
        h = hubs()
        # Queued while the engine is busy, so they share one batch.
        def held_up(desk):
            h.c.publish("%s/hub-1/events" % prefix, wire.event(
                h.secrets["hub-1"], "hub-1", 1_764_000_000,
                {"code": "E602", "event": 602, "qualifier": "E", "seq": 2 ** 64, "zone": 0}),
                qos=1).wait_for_publish(5)
            keys.extend(("hub-1", h.signal("hub-1", "E602")) for _ in range(5))
            until(lambda: rx.queue.qsize() >= 6, 10)
        keys = []
        rx.submit(held_up).result(30)
        assert h.wait_acked(keys, timeout=10)
        assert ("hub-1", 2 ** 64) not in h.acked
        assert {r["seq"] for r in query(sqlite_db, "SELECT seq FROM signals")} == \
            {k[1] for k in keys}
        report = rx.health_report()
        assert report["store"]["ok"] and report["store"]["failures"] == 0
        assert report["signals"]["handled"] == {"stored": 5}
        # Told with its traceback (a fault of ours or the hub's, to look into), once.
        failed = [r for r in caplog.records if r.getMessage().startswith("failed on")]
        assert len(failed) == 1 and "too large" in str(failed[0].exc_info[1]), failed
    finally:
        rx.stop()


def test_stopped_while_the_disk_is_full_nothing_is_lost(tmp_path, broker, prefix, hubs):
    """The service stopped (an upgrade, a reboot) while the store fails: it
    stops promptly, having acked nothing; a new one, once there is room, gets
    the hubs' resends and stores each signal once."""
    from monitor.receiver import Receiver, Settings
    disk = FullDisk(tmp_path)
    try:
        add_account(disk.db)
        settings = Settings(db=disk.db, port=broker.port, prefix=prefix)
        rx = Receiver(settings).start()
        h = hubs()
        disk.begin()
        keys = [("hub-1", h.signal("hub-1", "E602")) for _ in range(5)]
        assert until(lambda: rx.health_report()["signals"]["held_unacked"] == 5, 20)
        rx.stop()
        assert not rx.engine.is_alive() and not any(k in h.acked for k in keys)
        disk.end()
        rx = Receiver(settings).start()
        try:
            assert h.wait_acked(keys, timeout=20, resend_s=0.5)    # the hub's resends
        finally:
            rx.stop()
        rows = query(disk.db, "SELECT seq, COUNT(*) AS n FROM signals GROUP BY seq")
        assert {r["seq"]: r["n"] for r in rows} == {s: 1 for s in range(1, 6)}
    finally:
        disk.remove()
