"""The store's health bookkeeping on a clock the test moves: one log line when
the store starts failing, one a minute while it goes on, one when it is back;
the hold that keeps unacked signals while it fails; and /health with the
broker gone."""
import sqlite3

from desk_helpers import add_account
from tools.broker import Broker
from waiting import until
from web_helpers import client_for

from monitor.health import LOG_EVERY_MS, RETRY_MAX_MS, RETRY_MIN_MS, StoreHealth, store_fault
from monitor.held import Held
from monitor.items import Msg
from monitor.receiver import Receiver, Settings

FULL = sqlite3.OperationalError("database or disk is full")


def test_a_long_outage_is_logged_once_a_minute_not_once_per_attempt():
    h = StoreHealth(0)
    said = [h.failed(t, FULL, waiting=5) for t in range(1000, 1000 + 3 * LOG_EVERY_MS, 250)]
    lines = [s for s in said if s]
    assert len(said) == 720 and len(lines) == 3
    assert lines[0].startswith("case store failing: database or disk is full")
    assert lines[1].startswith("case store still failing after 60 s") and "5 signals" in lines[1]
    assert h.snapshot(1000 + 3 * LOG_EVERY_MS)["failing_for_s"] == 180.0
    assert h.retry_ms == RETRY_MAX_MS
    back = h.succeeded(200_000)
    assert back.startswith("case store back after 199.0 s (720 attempts failed)")
    assert h.ok and h.retry_ms == RETRY_MIN_MS and h.succeeded(200_001) is None
    snap = h.snapshot(200_001)
    assert (snap["outages"], snap["recovered"], snap["failures"]) == (1, 1, 720)
    assert snap["last_error"] == "database or disk is full" and snap["failing_since_ms"] is None


def test_only_the_store_failing_counts_as_a_store_fault():
    assert store_fault(FULL)
    assert store_fault(sqlite3.OperationalError("attempt to write a readonly database"))
    assert not store_fault(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not store_fault(KeyError("signal"))


def test_resent_copies_are_held_once_and_the_hold_is_bounded():
    held = Held(limit=3)
    held.add(Msg("a/hub-1/events", b"one", 10))
    held.add(Msg("a/hub-1/events", b"one", 40))      # the hub's resend
    held.add(Msg("a/hub-2/events", b"two", 20))
    held.add(Msg("a/hub-3/events", b"three", 30))
    held.add(Msg("a/hub-4/events", b"four", 50))     # over the limit: let go, unacked
    assert len(held) == 3 and held.let_go == 1 and held.oldest_ms() == 10
    first = held.take(2)
    assert [i.payload for i in first] == [b"one", b"two"] and len(held) == 3   # held while tried
    held.done(first)
    assert held.oldest_ms() == 30 and len(held.take(5)) == 1
    held.done(held.take(5))
    assert held.oldest_ms() is None and len(held) == 0


def test_health_says_when_the_broker_is_gone_and_when_it_is_back(tmp_path, sqlite_db):
    """A broker of the test's own, killed and started again: /health answers
    503 "broker disconnected" meanwhile, and 200 once the service is back on."""
    broker = Broker(str(tmp_path / "mosquitto")).start()
    add_account(sqlite_db)
    rx = Receiver(Settings(db=sqlite_db, port=broker.port, prefix="t/health")).start()
    try:
        client, _ = client_for(rx)
        assert client.get("/health").json() == {"ok": True, "status": "ok"}
        broker.stop()
        assert until(lambda: not rx.health_report()["broker"]["connected"], 10)
        r = client.get("/health")
        assert (r.status_code, r.json()) == (503, {"ok": False,
                                                   "status": "broker disconnected"})
        broker.start()
        assert until(lambda: client.get("/health").status_code == 200, 20)
        assert rx.health_report()["store"]["ok"] and rx.health_report()["engine"]["alive"]
    finally:
        rx.stop()
        broker.stop()
