"""The console's live feed during a case store outage (issue 18): one line
when it starts, one a minute while it lasts, one when it ends, no traceback
(the engine's rule, docs/monitoring.md "When the store fails")."""
import asyncio
import logging
import sqlite3
import threading
import time

from waiting import until

from monitor.store import Store
from monitor.web.config import WebConfig
from monitor.web.live import LiveFeed


class Flaky:
    """The real store, refusing every read while `down` is set, as a full or
    unreadable disk makes SQLite refuse."""

    def __init__(self, store):
        self.store = store
        self.down = threading.Event()
        self.reads = 0

    def _check(self):
        self.reads += 1
        if self.down.is_set():
            raise sqlite3.OperationalError("disk I/O error")

    def q(self, *a):
        self._check()
        return self.store.q(*a)

    def one(self, *a):
        self._check()
        return self.store.one(*a)

    def close(self):
        self.store.close()


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(tmp_path, caplog):
    db = str(tmp_path / "m.db")
    Store(db).close()
    feed = LiveFeed(db, WebConfig(live_poll_s=0.01))
    loop = asyncio.new_event_loop()
    feed.loop = loop
    feed.last = 0
    feed.clients.add(asyncio.Queue())           # a stream open: every poll reads
    store = Flaky(Store(db, create=False))
    caplog.set_level(logging.INFO, logger="monitor")
    feed.thread = threading.Thread(target=feed._tail, args=(store,), daemon=True)
    feed.thread.start()
    try:
        store.down.set()
        assert until(lambda: store.reads >= 5, 10)
        time.sleep(1.0)
        failed = feed.errors
        store.down.clear()
        assert until(lambda: any("back" in r.getMessage() for r in caplog.records), 10)
    finally:
        feed.stopping.set()
        feed.thread.join(5)
        loop.close()
    said = [r for r in caplog.records if r.name.startswith("monitor")]
    assert failed >= 2                          # still counted for /health
    assert not [r for r in said if r.exc_info], [r.getMessage() for r in said]
    assert len(said) == 2, [r.getMessage() for r in said]
    assert "failing" in said[0].getMessage() and "disk I/O error" in said[0].getMessage()
    assert said[0].levelno == said[1].levelno == logging.WARNING
