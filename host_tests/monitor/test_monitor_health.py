"""The store's health bookkeeping on a clock the test moves: one log line when
the store starts failing, one a minute while it goes on, one when it is back;
and the hold that keeps unacked signals while it fails."""
import sqlite3

from monitor.health import LOG_EVERY_MS, RETRY_MAX_MS, RETRY_MIN_MS, StoreHealth, store_fault
from monitor.held import Held

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
    held.add(("msg", "a/hub-1/events", b"one", 10))
    held.add(("msg", "a/hub-1/events", b"one", 40))      # the hub's resend
    held.add(("msg", "a/hub-2/events", b"two", 20))
    held.add(("msg", "a/hub-3/events", b"three", 30))
    held.add(("msg", "a/hub-4/events", b"four", 50))     # over the limit: let go, unacked
    assert len(held) == 3 and held.let_go == 1 and held.oldest_ms() == 10
    first = held.take(2)
    assert [i[2] for i in first] == [b"one", b"two"] and len(held) == 3   # held while tried
    held.done(first)
    assert held.oldest_ms() == 30 and len(held.take(5)) == 1
    held.done(held.take(5))
    assert held.oldest_ms() is None and len(held) == 0
