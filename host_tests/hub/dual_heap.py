# The hub's own memory, under both runtimes: the free heap and largest free
# block on the status topic, and a trouble raised before the heap runs out and
# restored once it has recovered. The readers are injected (gc.mem_free is
# MicroPython's; CPython has none), so the figures here are chosen ones.
import os
from panel.config import Config
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG
from hub.heap import Heap
from hub.hub import Hub
from hub import boot
from uplink.outbox import Outbox, MemStore

START = (1 << 30) - 3000     # the checks run across the 2**30 tick wrap


class Reader:
    # free(): the figure the board would give; collect() frees `garbage`.
    def __init__(self, free, garbage=0):
        self.value = free
        self.garbage = garbage
        self.collects = 0

    def free(self):
        return self.value

    def collect(self):
        self.collects += 1
        self.value += self.garbage
        self.garbage = 0


def signals(panel):
    return [o["signal"] for o in panel.take() if "signal" in o]


def test_the_report_names_the_free_heap_its_low_mark_and_the_largest_block():
    r = Reader(40000)
    heap = Heap(r.free, largest=lambda: 31744, collect=r.collect)
    panel = Panel(Config(DEFAULT_CONFIG, os.urandom), START)
    heap.poll(START, panel)
    r.value = 36000
    assert heap.report() == {"free": 36000, "least": 36000, "largest": 31744}
    r.value = 50000
    assert heap.report() == {"free": 50000, "least": 36000, "largest": 31744}
    assert Heap(r.free).report() == {"free": 50000, "least": 50000}   # no block reader
    assert r.collects == 0         # plenty free: no collect on the loop's time
    assert signals(panel) == []


def test_a_low_heap_raises_one_trouble_and_its_restore_once_recovered():
    r = Reader(20000)
    heap = Heap(r.free, collect=r.collect)
    panel = Panel(Config(DEFAULT_CONFIG, os.urandom), START)
    panel.take()
    now = START
    heap.poll(now, panel)
    r.value = heap.low - 1000
    r.garbage = 500                # a collect does not bring it back over the line
    for _ in range(3):             # checked every check_ms, reported once
        now = (now + heap.check_ms) & 0x3FFFFFFF
        heap.poll(now, panel)
    assert r.collects >= 1         # low only counts after a collect
    sigs = signals(panel)
    assert [(s["code"], s["name"]) for s in sigs] == [("E300", "heap")], sigs
    assert sigs[0]["free"] == heap.low - 500
    r.value = heap.low + 100       # over the line, under the restore mark: no flapping
    now = (now + heap.check_ms) & 0x3FFFFFFF
    heap.poll(now, panel)
    assert signals(panel) == []
    r.value = heap.high
    now = (now + heap.check_ms) & 0x3FFFFFFF
    heap.poll(now, panel)
    sigs = signals(panel)
    assert [(s["code"], s["name"], s["free"]) for s in sigs] == [("R300", "heap", heap.high)]
    assert heap.report()["least"] == heap.low - 500


def test_garbage_a_collect_frees_is_no_trouble():
    r = Reader(1000, garbage=30000)
    heap = Heap(r.free, collect=r.collect)
    panel = Panel(Config(DEFAULT_CONFIG, os.urandom), START)
    panel.take()
    heap.poll(START, panel)
    assert r.collects == 1 and signals(panel) == []


def test_not_due_is_not_read():
    calls = []
    heap = Heap(lambda: calls.append(1) or 50000)
    panel = Panel(Config(DEFAULT_CONFIG, os.urandom), START)
    heap.poll(START, panel)
    heap.poll((START + heap.check_ms - 10) & 0x3FFFFFFF, panel)
    assert len(calls) == 1
    heap.poll((START + heap.check_ms) & 0x3FFFFFFF, panel)
    assert len(calls) == 2


def test_the_hub_puts_the_heap_on_its_status_and_its_trouble_in_the_outbox():
    r = Reader(5000)
    panel = Panel(Config(DEFAULT_CONFIG, os.urandom), START)
    outbox = Outbox(MemStore())
    hub = Hub(panel, Store(), outbox=outbox, log=lambda now, item: None,
              clock=lambda: 1700000000)
    hub.heap = Heap(r.free, largest=lambda: 4096, collect=r.collect)
    hub.step(START)
    assert hub.status()["heap"] == {"free": 5000, "least": 5000, "largest": 4096}
    assert [e[2]["code"] for e in outbox.entries()] == ["E300"]


def test_the_boards_readers_are_used_where_the_runtime_has_them():
    heap = boot.heap_watch()
    try:
        import gc
        has = hasattr(gc, "mem_free")
    except ImportError:
        has = False
    if not has:
        assert heap is None        # CPython: no GC heap figure to report
        return
    n = heap.report()["free"]
    assert 0 < n and isinstance(n, int)


class Store:
    def save(self, name, value):
        pass
