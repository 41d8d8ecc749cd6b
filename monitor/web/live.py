"""Live updates: one reader tails the timeline table (so steps written by any
worker process show) and fans each batch out to the open Server-Sent Events
streams.

Bounded on purpose, so the web side can never slow the intake: at most
`max_live_clients` streams (more get 503), one store read per poll for all of
them, one message per poll per stream however many steps it holds, and a
stream whose client stops reading is dropped once its small queue is full."""
import asyncio
import json
import threading

from starlette.responses import JSONResponse, StreamingResponse

from monitor.store import Store
from monitor.web import views

QUEUE = 16      # polls a stream may fall behind before it is dropped


class LiveFeed:
    def __init__(self, db, config):
        self.db = db
        self.config = config
        self.clients = set()
        self.loop = None
        self.stopping = threading.Event()
        self.thread = None
        self.dropped = 0

    def start(self, loop):
        self.loop = loop
        store = Store(self.db, create=False)
        self.last = store.one("SELECT COALESCE(MAX(id), 0) AS m FROM timeline")["m"]
        self.thread = threading.Thread(target=self._tail, args=(store,), name="web-live",
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.loop is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._publish, None)
            except RuntimeError:
                pass
        if self.thread:
            self.thread.join(5)

    def _tail(self, store):
        try:
            while not self.stopping.wait(self.config.live_poll_s):
                if not self.clients:
                    # Nobody to tell: just keep the place.
                    self.last = store.one("SELECT COALESCE(MAX(id), ?) AS m FROM timeline",
                                          self.last)["m"]
                    continue
                rows = store.q(views.TIMELINE_SQL + "WHERE timeline.id > ? "
                               "ORDER BY timeline.id LIMIT 500", self.last)
                if rows:
                    self.last = rows[-1]["id"]
                    # Encoded once here, off the event loop, for every stream.
                    data = b"event: steps\ndata: %s\n\n" % json.dumps(
                        [views.line(r) for r in rows]).encode()
                    self.loop.call_soon_threadsafe(self._publish, data)
        finally:
            store.close()

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
        q = asyncio.Queue(QUEUE)
        self.clients.add(q)
        keepalive = self.config.keepalive_s

        async def events():
            try:
                yield b": live\n\n"
                while not self.stopping.is_set():
                    try:
                        data = await asyncio.wait_for(q.get(), keepalive)
                    except asyncio.TimeoutError:
                        yield b": keepalive\n\n"
                        continue
                    if data is None:
                        return
                    yield data
            finally:
                self.clients.discard(q)
        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})
