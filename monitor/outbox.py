"""Delivering timeline steps from the store, after commit (at least once).

Desk.step queues every step it writes in the `outbox` table, claimed by the
writing process at that moment. Once its transaction has committed, the
process hands the steps to its sinks (JSON lines, the in-process listeners)
as it wrote them, and only then deletes their outbox rows. A
process that dies in between leaves the rows behind; once their claim is older
than the lease, any process claims and delivers them. A sink may therefore
see a step twice, never lose one: the step's `id` tells repeats apart."""
import logging

from monitor import timeline

log = logging.getLogger("monitor")

LEASE_MS = 10_000


def take(store, ids):
    """The committed steps `ids`, as lines, in id order."""
    return timeline.lines(store, ids)


def delivered(store, ids):
    if not ids:
        return
    if store.postgres:
        # One round trip, and the commit does not wait for the disk: it is no
        # ack. Should the server crash before it is written, the steps are
        # delivered again (at least once), and the next durable commit writes
        # it anyway. On the engine's way between two alarms.
        store.forget("DELETE FROM outbox WHERE id IN (%s)" % ",".join("%d" % i for i in ids))
        return
    with store.tx() as db:
        db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def claim_orphans(store, now_ms, lease_ms=LEASE_MS, limit=500):
    """Claim steps whose delivery was left unfinished by a process that died;
    returns their ids (deliver, then call delivered())."""
    # SKIP LOCKED (PostgreSQL): two workers sweeping at once claim different rows.
    lock = " FOR UPDATE SKIP LOCKED" if store.postgres else ""
    with store.tx() as db:
        ids = [r["id"] for r in store.q("SELECT id FROM outbox WHERE claimed_ms <= ? "
                                        "ORDER BY id LIMIT ?" + lock, now_ms - lease_ms, limit)]
        db.executemany("UPDATE outbox SET claimed_ms = ? WHERE id = ?",
                       [(now_ms, i) for i in ids])
    return ids


class Delivery:
    """One process's delivery of the steps its transactions committed.

    sinks: functions of a line (JSON lines, listeners, hooks), called in order.
    The outbox rows of delivered steps are deleted at the start of the next
    transaction (drop_delivered, cheaper than a transaction of their own), or
    by flush() when the engine is idle."""

    def __init__(self, sinks):
        self.sinks = sinks
        self.pending = []       # delivered steps whose outbox rows are still to delete

    def drop_delivered(self, store):
        """Inside the caller's transaction; once it commits, call committed()."""
        if not self.pending:
            return
        if store.postgres:
            store.db.execute("DELETE FROM outbox WHERE id = ANY(?::bigint[])", (self.pending,))
        else:
            store.db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in self.pending])

    def committed(self):
        self.pending = []

    def send(self, lines):
        """The steps a transaction of this process wrote, once it committed:
        as written, with no read back (on the alarm's way to the operator)."""
        for line in lines:
            for sink in self.sinks:
                sink(line)
            self.pending.append(line["id"])

    def deliver(self, store, ids):
        """Committed steps read back from the store (another process's)."""
        self.send(take(store, ids))

    def flush(self, store):
        if self.pending:
            delivered(store, self.pending)
            self.pending = []

    def redeliver(self, store, now_ms, lease_ms):
        """Steps a process that died had committed but not yet delivered."""
        self.flush(store)           # this process's own are not orphans
        ids = claim_orphans(store, now_ms, lease_ms)
        if ids:
            log.warning("delivering %d steps left undelivered by a stopped process", len(ids))
            self.deliver(store, ids)
            self.flush(store)
