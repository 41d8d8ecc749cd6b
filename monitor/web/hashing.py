"""Password checks (the verbal password's PBKDF2) off the engine thread, and
bounded. The engine stores and acks every hub's signals: a check there made
one owner's app session slow alarm intake for every hub. Here a small pool of
its own does them, at most one at a time per session and a few per address;
a request beyond that gets 429 before anything is counted or checked."""
import asyncio
import collections
import concurrent.futures
import contextlib
import threading

from monitor.web.auth import Denied

WORKERS = 2
PER_SESSION = 1
PER_ADDRESS = 3


class HashGate:
    def __init__(self, workers=WORKERS, per_session=PER_SESSION, per_address=PER_ADDRESS):
        self.pool = concurrent.futures.ThreadPoolExecutor(workers,
                                                          thread_name_prefix="password-check")
        self.limits = {"session": per_session, "address": per_address}
        self.busy = collections.Counter()
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self, session, address):
        """Hold a checking slot for this session and address, or Denied(429)."""
        keys = [("session", session), ("address", address)]
        with self.lock:
            if any(self.busy[k] >= self.limits[k[0]] for k in keys):
                raise Denied(429, "a password check is already under way: wait for its answer",
                             {"Retry-After": "1"})
            for k in keys:
                self.busy[k] += 1
        try:
            yield
        finally:
            with self.lock:
                for k in keys:
                    self.busy[k] -= 1
                    if not self.busy[k]:
                        del self.busy[k]

    async def run(self, fn, *args):
        return await asyncio.wrap_future(self.pool.submit(fn, *args))

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)
