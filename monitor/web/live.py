"""Live updates: one reader follows the timeline (so steps written by any
worker process show) and tells the open Server-Sent Events streams which cases
changed (`event: changed`, data `{"cases": [ids], "steps": n, "last": id}`).

Bounded on purpose, so the web side can never slow the intake: at most
`max_live_clients` streams (more get 503), of them at most
`max_live_per_session` for one session (more get 429: one session cannot
take every other operator's live view), one store read per poll for all of
them, one message per poll per stream however many steps it holds, and a
stream whose client stops reading is dropped once its small queue is full.
With many streams the messages come less often (live_cost_s per stream: 500
streams get one a second), so the fan-out's share of the GIL stays small.

Following the timeline: on SQLite, by its highest id (one writer at a time,
so ids are committed in order). On PostgreSQL workers commit side by side, a
lower id can commit after a higher one, so the store announces each committed
step (LISTEN/NOTIFY, the trigger in monitor/pg_schema.py) and the reader collects those."""
import asyncio
import json
import logging
import threading
import time

from starlette.responses import JSONResponse, StreamingResponse

from monitor import health, pg
from monitor.store import ERRORS, Store
from monitor.web.access import session

log = logging.getLogger("monitor.web")
QUEUE = 16      # polls a stream may fall behind before it is dropped
KEEPALIVE = b": keepalive\n\n"


class LiveFeed:
    def __init__(self, db, config):
        self.db = db
        self.config = config
        self.clients = set()
        self.per_session = {}       # the session's CSRF token (unique to it) -> its queues
        self.loop = None
        self.stopping = threading.Event()
        self.thread = None
        self.dropped = 0
        self.published = 0
        self.errors = 0
        # The engine's rule for a failing store: a line when it starts, one a
        # minute, one when it ends, no traceback (each poll would log one).
        self.health = health.StoreHealth(_now_ms())

    def start(self, loop):
        self.loop = loop
        self.last = None
        try:
            store = self._open()
        except ERRORS as e:
            if not health.store_fault(e):
                raise
            # Started while the store is down: the thread opens it once it answers.
            self._store_failed(e)
            store = None
        self.thread = threading.Thread(target=self._tail, args=(store,), name="web-live",
                                       daemon=True)
        self.thread.start()

    def _open(self):
        store = pg.Listener(self.db, "timeline") if pg.is_url(self.db) \
            else Store(self.db, create=False)
        try:
            if self.last is None:       # where the timeline is now; what follows is news
                self.last = store.one("SELECT COALESCE(MAX(id), 0) AS m FROM timeline")["m"]
        except BaseException:
            store.close()
            raise
        return store

    def stop(self):
        self.stopping.set()
        if self.loop is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._publish, None)
            except RuntimeError:
                pass
        if self.thread:
            self.thread.join(5)

    def _interval(self):
        # Each message costs every stream a write under the one GIL the engine
        # also needs: with many streams, fewer and fuller messages.
        return max(self.config.live_poll_s, len(self.clients) * self.config.live_cost_s)

    def _tail(self, store):
        quiet_since = time.monotonic()
        listening = pg.is_url(self.db)
        try:
            while not self.stopping.is_set():
                try:
                    if store is None:
                        store = self._open()
                    if listening:
                        changed = self._listen(store)
                    elif self.stopping.wait(self._interval()):
                        break
                    else:
                        changed = self._poll(store)
                    self._store_ok()
                    if changed:
                        quiet_since = time.monotonic()
                    elif time.monotonic() - quiet_since >= self.config.keepalive_s:
                        # A comment now and then, so proxies keep idle streams open.
                        quiet_since = time.monotonic()
                        self.loop.call_soon_threadsafe(self._publish, KEEPALIVE)
                except ERRORS as e:
                    # Counted and shown on /health; the next poll tries again.
                    self.errors += 1
                    if not health.store_fault(e):
                        log.exception("live feed: reading the timeline failed")
                    else:
                        self._store_failed(e)
                    if listening or not self.health.ok:
                        # Then again (listening: on a new connection), backing off.
                        self.stopping.wait(self.health.retry_ms / 1000)
        finally:
            if store is not None:
                store.close()

    def _store_failed(self, exc):
        starting = self.health.ok
        now = _now_ms()
        if self.health.failed(now, exc, 0) is None:
            return
        if starting:
            log.warning("live feed: case store failing: %s; the console's live updates "
                        "wait for it", self.health.last_error)
        else:
            log.warning("live feed: case store still failing after %.0f s: %s",
                        (now - self.health.failing_since_ms) / 1000, self.health.last_error)

    def _store_ok(self):
        if not self.health.ok:
            took = (_now_ms() - self.health.failing_since_ms) / 1000
            self.health.succeeded(_now_ms())
            log.warning("live feed: case store back after %.1f s", took)

    def _poll(self, store):
        """Tell the streams what changed since the last poll; True when something did."""
        if not self.clients:
            # Nobody to tell: just keep the place.
            self.last = store.one("SELECT COALESCE(MAX(id), ?) AS m FROM timeline",
                                  self.last)["m"]
            return False
        rows = store.q("SELECT id, case_id FROM timeline WHERE id > ? ORDER BY id", self.last)
        if not rows:
            return False
        self.last = rows[-1]["id"]
        return self._changed([(r["case_id"], r["id"]) for r in rows])

    def _listen(self, store):
        """PostgreSQL: the steps committed in one interval, as announced."""
        steps = store.wait(self._interval())
        if not steps or not self.clients:
            return False
        self.last = max(self.last, max(step_id for _case, step_id in steps))
        return self._changed(steps)

    def _changed(self, steps):
        # Which cases changed, not the steps: a storm of alarms is one small
        # message, and a page reads what it shows. Encoded once, off the event
        # loop, for every stream.
        data = b"event: changed\ndata: %s\n\n" % json.dumps(
            {"cases": sorted({case for case, _id in steps}), "steps": len(steps),
             "last": self.last}).encode()
        self.published += 1
        self.loop.call_soon_threadsafe(self._publish, data)
        return True

    def _publish(self, data):
        for q in list(self.clients):
            if data is None:
                q.put_nowait(None)
            elif q.full():
                # Not reading: drop it rather than queue for it.
                self.clients.discard(q)
                self.dropped += 1
                while not q.empty():
                    q.get_nowait()
                q.put_nowait(None)
            else:
                q.put_nowait(data)

    async def stream(self, request):
        if len(self.clients) >= self.config.max_live_clients:
            return JSONResponse({"error": "too many live-update clients (at most %d)"
                                 % self.config.max_live_clients}, 503,
                                headers={"Retry-After": "10"})
        owner = session(request)["csrf"]
        # Only those still fed count: one dropped for not reading has left.
        mine = self.per_session[owner] = self.per_session.get(owner, set()) & self.clients
        if len(mine) >= self.config.max_live_per_session:
            return JSONResponse({"error": "too many live-update streams for this session (at "
                                 "most %d): close another tab" % self.config.max_live_per_session},
                                429, headers={"Retry-After": "10"})
        q = asyncio.Queue(QUEUE)
        self.clients.add(q)
        mine.add(q)

        async def events():
            # One await per message and nothing else: with hundreds of streams
            # every microsecond here is taken from the engine (one GIL).
            try:
                yield b": live\n\n"
                while True:
                    data = await q.get()
                    if data is None:
                        return
                    yield data
            finally:
                self.clients.discard(q)
                mine.discard(q)
                if not mine and self.per_session.get(owner) is mine:
                    del self.per_session[owner]
        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})


def _now_ms():
    return int(time.monotonic() * 1000)
