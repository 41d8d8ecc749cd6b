# Store and forward: the signals waiting for the monitoring side's ack.
#
# Entries are kept in seq order, each as [seq, time_s, signal]. The queue is
# bounded by `capacity`; when a new signal would exceed it, one entry is dropped:
#   - the oldest low-priority entry (401 open/close, any restore R...), else
#   - the oldest trouble entry (tamper/battery/supervision, wrong code, ...),
#   - alarm signals are never dropped (the queue grows past capacity instead),
#   - the new signal itself if it ranks below everything queued.
# A drop is itself reported: an E624 "event log overflow" signal that takes the
# dropped signal's seq (so seqs stay unique and no number is invented) and lists
# the dropped seqs. At most one overflow entry is queued: a newer one replaces it
# and carries its list. The queue is saved through an injected store after every
# change, as JSON lines; FileStore is the flash adapter (write new file, rename).
#
# Pure logic: no sockets, no clocks.
import json

from panel.compat import const

from panel import contact_id as CID
from panel.contact_id import ALARM, LOW, OVERFLOW, TROUBLE  # noqa: F401 (part of this API)

_MAX_LISTED = const(32)      # dropped seqs listed in one overflow signal
# An entry, a list read by these positions (as on flash, one JSON array a
# line; on the board a list costs a fraction of an object): its seq, the time
# it was queued (s, 0 if unknown) and the signal. The report paths keep a
# copy (const() folds within a module only); host_tests/test_record_layouts.py
# holds the copies to these. Over a FileStore the signal waits on flash only:
# its slot holds where its line starts in the file, shifted, with its rank in
# the low bits (a full queue picks what to drop on every put, without reading
# flash); Outbox.signal() reads it back to send it. 65 signal dicts are most of
# the hub's working heap on a board without PSRAM.
_SEQ = const(0)
_TIME_S = const(1)
_SIGNAL = const(2)
_RANK_BITS = const(2)
_RANKS = const(3)
_OVERFLOWING = const(3)      # an overflow report's rank: never dropped for another


def priority(sig):
    """ALARM, TROUBLE or LOW for a signal dict (the rank in panel/contact_id.py)."""
    return CID.rank(sig.get("qualifier"), sig.get("event"))


def _rank(e):
    w = e[_SIGNAL]
    if isinstance(w, int):
        return w & _RANKS
    return _OVERFLOWING if w.get("event") == OVERFLOW else priority(w)


def alarm_waiting(box):
    """Whether an alarm is queued in `box` (an Outbox, or one path's view of
    it): each report path then keeps its retry short."""
    for e in box.entries():
        if _rank(e) == ALARM:
            return True
    return False


def retry_in(path, failures=None):
    """The ms a report path (uplink/link.py's Link, uplink/dc09_link.py's Dc09)
    waits after its path.failures-th (or failures-th) failure in a row: doubling from
    backoff_min_ms to backoff_max_ms, and no more than alarm_retry_ms while an
    alarm waits in path.outbox. Jittered down to half (path.rand(n), else
    os.urandom): the hubs one outage cut off do not all come back at once."""
    n = (path.failures if failures is None else failures) - 1
    delay = path.backoff_min_ms << (n if n < 16 else 16)
    if delay > path.backoff_max_ms:
        delay = path.backoff_max_ms
    if delay > path.alarm_retry_ms and alarm_waiting(path.outbox):
        delay = path.alarm_retry_ms
    half = delay // 2
    if path.rand is not None:
        return half + path.rand(half + 1)
    import os
    return half + int.from_bytes(os.urandom(4), "big") % (half + 1)


def replace(path, lines, mode="wb"):
    """Write `lines` (bytes, or str with mode "w"), each ended by a newline, to
    path.new, then rename that over path: on LittleFS (the ESP32 default) and
    POSIX the rename replaces atomically, so after a power cut at any instant
    a reader finds the old file or the new one, never half of one. Where
    rename cannot replace (FAT) the old file goes first: readers then fall
    back to path.new."""
    nl = "\n" if mode == "w" else b"\n"

    def write(f):
        for line in lines:
            f.write(line)
            f.write(nl)
    replace_with(path, write, mode)


def replace_with(path, write, mode="w"):
    """replace(), the new file's content written by write(f): a JSON
    document streamed by json.dump never sits in the heap as one string."""
    import os
    tmp = path + ".new"
    with open(tmp, mode) as f:
        write(f)
    try:
        os.rename(tmp, path)
    except OSError:
        os.remove(path)
        os.rename(tmp, path)


class MemStore:
    """A store in RAM (tests, or a hub without flash persistence).

    The store interface: save(lines) keeps a list of bytes lines (no newlines),
    load() gives them back (any iterable of bytes lines), or None when empty.
    Lines keep every allocation small: no one big string on a fragmented heap.
    """

    def __init__(self, lines=None):
        self.lines = lines
        self.saves = 0

    def load(self):
        return self.lines

    def save(self, lines):
        self.lines = list(lines)
        self.saves += 1


class FileStore:
    """A store in one flash file, replaced atomically (replace())."""

    def __init__(self, path):
        self.path = path
        self.tmp = path + ".new"

    def load(self):
        at = self.load_at()
        return None if at is None else [line for _, line in at]

    def load_at(self):
        """[(where, line)]: where a line starts in the file, for read(); None
        for every line when they came from path.new (FAT, cut mid-rename),
        which the next save replaces."""
        for p in (self.path, self.tmp):
            try:
                with open(p, "rb") as f:
                    out = []
                    where = 0
                    for line in f:
                        if line.strip():
                            out.append((where if p == self.path else None,
                                        line.rstrip(b"\n")))
                        where += len(line)
                    return out
            except OSError:
                pass
        return None

    def read(self, where):
        with open(self.path, "rb") as f:
            f.seek(where)
            return f.readline().rstrip(b"\n")

    def append(self, line):
        # One journal line. A power cut can tear only this last line, which
        # load() then ignores: the entries before it are whole. Returns where
        # it starts.
        with open(self.path, "ab") as f:
            f.seek(0, 2)
            where = f.tell()
            f.write(line)
            f.write(b"\n")
        return where

    def save(self, lines):
        replace(self.path, lines)

    def starts(self):
        """Where each line of the file starts, in order: read back after a
        save rather than kept while writing (no list of them in the heap)."""
        with open(self.path, "rb") as f:
            where = 0
            for line in f:
                yield where
                where += len(line)


class Outbox:
    # Journal lines appended between two full rewrites of the file: a put or an
    # ack costs one short append instead of rewriting every queued signal.
    journal_limit = 32

    def __init__(self, store=None, capacity=64):
        self.store = store if store is not None else MemStore()
        self.capacity = capacity
        self.items = self._room(())   # [seq, time_s, signal], ascending seq
        self.last_seq = 0      # highest seq ever queued: seed the panel's seq with it
        self.dropped = 0       # signals dropped since the queue was created
        self.damaged = 0       # unreadable records found at load (counted, skipped)
        self.epoch = None      # this install's random epoch, carried in every event
        self._journal = 0
        self._load()

    def __len__(self):
        return len(self.items)

    def entries(self):
        return self.items

    def signal(self, e):
        """An entry's signal dict, read from flash where it waits there."""
        w = e[_SIGNAL]
        if isinstance(w, int):
            return json.loads(self.store.read(w >> _RANK_BITS))[_SIGNAL]
        return w

    def seqs(self):
        return [e[_SEQ] for e in self.items]

    def set_epoch(self, epoch):
        """Start a new epoch (first boot, or the old one was lost); on flash at once."""
        self.epoch = epoch
        self._save()

    def put(self, sig, time_s=0):
        """Queue a panel signal dict (needs an integer "seq"). Returns the dropped seq or None."""
        seq = sig["seq"]
        for e in self.items:
            if e[_SEQ] == seq:
                return None          # already queued
        if seq > self.last_seq:
            self.last_seq = seq
        entry = [seq, time_s, sig]
        self._insert(entry)
        victim = None
        if len(self.items) > self.capacity:
            victim = self._victim()
            if victim is not None:
                self._drop(victim, time_s)
        if victim is None:
            self._record(entry)
        else:
            self._save()
        return None if victim is None else victim[_SEQ]

    def ack(self, seqs):
        """Remove the acknowledged seqs. Returns how many entries were removed."""
        keep = [e for e in self.items if e[_SEQ] not in seqs]
        n = len(self.items) - len(keep)
        if n:
            gone = [e[_SEQ] for e in self.items if e[_SEQ] in seqs]
            self.items = keep
            self._record(["ack", gone])
        return n

    # ---- internals ----

    def _room(self, items):
        # A list holding `items` with room for a full queue and the put that
        # drops from it: grown a put at a time, the list asks for twice its
        # size at each step (512 B at 64 entries on a 32-bit board), the last
        # time from a heap the loop has long cut into small pieces.
        room = [None] * (self.capacity + 2)
        del room[:]          # empty, its block kept
        room.extend(items)
        return room

    def _insert(self, entry):
        items = self.items
        i = len(items)
        while i > 0 and items[i - 1][_SEQ] > entry[_SEQ]:
            i -= 1
        items.insert(i, entry)

    def _victim(self):
        for rank in (LOW, TROUBLE):
            for e in self.items:
                if _rank(e) == rank:
                    return e
        return None

    def _drop(self, victim, time_s):
        self.items.remove(victim)
        self.dropped += 1
        lost = []
        items = self.items
        # In place, from the end: a full queue drops on every put, and a copy
        # of the list each time is a block the size of the queue.
        for i in range(len(items) - 1, -1, -1):
            if _rank(items[i]) == _OVERFLOWING:
                # A replaced report's list holds its own seq: it is never sent either.
                lost.extend(self.signal(items[i]).get("lost", ()))
                del items[i]
        lost.append(victim[_SEQ])
        lost.sort()
        sig = {"code": "E%03d" % OVERFLOW, "event": OVERFLOW, "qualifier": "E",
               "seq": victim[_SEQ], "dropped": self.dropped, "lost": lost[-_MAX_LISTED:]}
        self._insert([victim[_SEQ], time_s, sig])

    def _record(self, rec):
        if hasattr(self.store, "append") and self._journal < self.journal_limit:
            where = self.store.append(json.dumps(rec).encode())
            self._journal += 1
            if isinstance(rec[_SEQ], int):
                self._on_flash(rec, where)
        else:
            self._save()

    def _on_flash(self, e, where):
        # The entry's signal is in the file from `where` on: RAM lets go of it.
        if where is not None and hasattr(self.store, "read"):
            e[_SIGNAL] = (where << _RANK_BITS) | _rank(e)

    def _save(self):
        # Line 1: {"v":1,"last_seq":N,"dropped":N,"epoch":N}; then one [seq,time,signal] per
        # line. Journal lines may follow: [seq,time,signal] queues (or replaces)
        # an entry, ["ack",[seqs]] removes entries.
        self._journal = 0
        self.store.save(self._lines())
        if hasattr(self.store, "starts"):
            items = self.items
            i = -1                      # line 0 is the header
            for where in self.store.starts():
                if i >= 0:
                    self._on_flash(items[i], where)
                i += 1

    def _lines(self):
        # One line at a time: 200 queued signals never sit in RAM twice (one
        # waiting on flash is read from the old file into the new one).
        head = {"v": 1, "last_seq": self.last_seq, "dropped": self.dropped}
        if self.epoch is not None:
            head["epoch"] = self.epoch
        yield json.dumps(head).encode()
        for e in self.items:
            yield json.dumps([e[_SEQ], e[_TIME_S], self.signal(e)]).encode()

    def _load(self):
        # Every readable record is kept: a damaged line (flash wear, a bad
        # write) is counted in `damaged` and skipped, never the end of the
        # file. Only a torn last line is expected (a power cut mid-append).
        at = self.store.load_at() if hasattr(self.store, "load_at") else None
        data = self.store.load() if at is None else [line for _, line in at]
        if not data:
            self._journal = self.journal_limit   # no file yet: start with a whole one
            return
        items = []
        data = list(data)
        head = None
        top = 0                  # highest seq on any line, acked ones too
        last = len(data) - 1
        for n in range(len(data)):
            try:
                obj = json.loads(data[n])
            except Exception:            # ValueError, or MemoryError on a mangled line
                if n != last or n == 0:
                    self.damaged += 1    # a torn last line is a put that never finished
                continue
            if isinstance(obj, dict) and head is None and n == 0:
                head = obj
                continue
            if isinstance(obj, list) and len(obj) == 2 and obj[0] == "ack" \
                    and isinstance(obj[1], list):
                acked = obj[1]       # a journal line: ["ack", [seqs]]
                items = [e for e in items if e[_SEQ] not in acked]
                continue
            if not (isinstance(obj, list) and len(obj) == 3 and _is_int(obj[_SEQ])
                    and isinstance(obj[_SIGNAL], dict)):
                self.damaged += 1
                continue
            if not _is_int(obj[_TIME_S]):
                obj[_TIME_S] = 0           # keep the signal; its queue time is lost
                self.damaged += 1
            if obj[_SEQ] > top:
                top = obj[_SEQ]
            items = [e for e in items if e[_SEQ] != obj[_SEQ]]
            items.append(obj)
            if at is not None:
                self._on_flash(obj, at[n][0])
        if head is None or head.get("v") != 1:
            if head is not None or data[0][:1] == b"[":
                self.damaged += 1    # a header that parsed wrong, or none at all
            head = {}
        last_seq = head.get("last_seq", 0)
        dropped = head.get("dropped", 0)
        epoch = head.get("epoch")
        self.last_seq = last_seq if _is_int(last_seq) else 0
        self.dropped = dropped if _is_int(dropped) else 0
        self.epoch = epoch if _is_int(epoch) else None
        if top > self.last_seq:
            self.last_seq = top
        items.sort(key=lambda e: e[_SEQ])
        self.items = self._room(items)
        self._journal = self.journal_limit   # the first write after boot rewrites the file


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)
