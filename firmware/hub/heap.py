# The hub's own memory: the free GC heap (its low mark) and the largest free
# block, for the status topic, and a trouble (E300 "heap") raised while the
# heap stays under `low` after a collect, so the monitor hears of it before a
# MemoryError, restored (R300) once it is back over `high`.
#
# The readers are injected (boot.heap_watch gives the board's): gc.mem_free is
# MicroPython's, and the largest block is the ESP32's IDF heap's.
from panel import ticks
from panel import contact_id as CID


class Heap:
    check_ms = 5000
    low = 8192
    high = 12288      # not `low`: a heap hovering at the line does not flap the trouble

    def __init__(self, free, largest=None, collect=None):
        self.free = free            # () -> bytes free on the GC heap
        self.largest = largest      # () -> bytes, the largest free block; or None
        self.collect = collect      # frees garbage; run only when the heap looks low
        self.least = None
        self.low_now = False
        self._next = None

    def poll(self, now, panel):
        if self._next is not None and ticks.diff(now, self._next) < 0:
            return
        self._next = ticks.add(now, self.check_ms)
        n = self.free()
        if n < self.low and self.collect is not None:
            self.collect()          # garbage is not a shortage: only live objects count
            n = self.free()
        self._least(n)
        if n < self.low and not self.low_now:
            self.low_now = True
            panel.system_trouble(now, CID.SYSTEM, "heap", free=n)
        elif n >= self.high and self.low_now:
            self.low_now = False
            panel.system_restore(now, CID.SYSTEM, "heap", free=n)

    def report(self):
        n = self.free()
        self._least(n)
        r = {"free": n, "least": self.least}
        if self.largest is not None:
            r["largest"] = self.largest()
        return r

    def _least(self, n):
        if self.least is None or n < self.least:
            self.least = n
