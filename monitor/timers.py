"""Firing due timers (ring timeouts, hold times, test-report deadlines, a call
provider's own). Timers are rows in the store; a worker claims one by deleting
it inside the transaction that acts on it, so of several workers exactly one
fires it, and after a crash it fires on whichever worker is up. On
PostgreSQL the rows are claimed FOR UPDATE SKIP LOCKED, under the hubs' locks."""
import logging

from monitor.case_record import Refused

log = logging.getLogger("monitor")


def next_due(store):
    """The earliest due time in clock ms, or None."""
    return store.one("SELECT MIN(due_ms) AS due FROM timers")["due"]


def fire_due(desk, limit=100):
    """Inside the caller's transaction: claim and fire what is due now. One
    timer that fails is rolled back alone (and logged); the rest still fire."""
    store = desk.store
    now = desk.now()
    if store.postgres:
        # The hubs first, then the rows (FOR UPDATE SKIP LOCKED: a timer another
        # worker is firing right now is left to it). Hub locks before row locks,
        # in the order every transaction takes them, or a worker holding a
        # timer's row could wait for its hub while the hub's holder waits for
        # the row.
        hubs = [r["hub"] for r in store.q("SELECT DISTINCT hub FROM timers WHERE due_ms <= ? "
                                          "AND hub IS NOT NULL LIMIT ?", now, limit)]
        store.lock_hubs(hubs)
        due = store.q("SELECT * FROM timers WHERE due_ms <= ? AND hub = ANY(?) "
                      "ORDER BY due_ms, id LIMIT ? FOR UPDATE SKIP LOCKED", now, hubs, limit)
    else:
        due = store.q("SELECT * FROM timers WHERE due_ms <= ? ORDER BY due_ms, id LIMIT ?",
                      now, limit)
    for timer in due:
        if desk.store.db.execute("DELETE FROM timers WHERE id = ?",
                                 (timer["id"],)).rowcount == 0:
            continue
        mark = len(desk.out)
        try:
            with desk.store.savepoint():
                desk.fire(dict(timer))
        except Exception as e:
            del desk.out[mark:]
            if not isinstance(e, Refused):
                log.exception("timer %s failed", dict(timer))
    return len(due)
