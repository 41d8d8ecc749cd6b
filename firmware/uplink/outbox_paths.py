# The outbox of a hub with two report paths (MQTT and SIA DC-09): each path
# acks on its own, and a signal stays until every path has acked it, or with
# first=True until one has. `acked` holds, for a queued signal, the paths that
# already did, so each path sends only what it still owes.
#
# The queue's own file keeps its format (an MQTT-only hub, or an older one,
# reads it as ever); the per-path acks are a journal of their own beside it
# (outbox.paths): [path,[seqs]] lines appended, rewritten whole now and then,
# read back after a power cut and applied to the signals still queued. A cut
# between the two files at worst has a path send a signal again, which the
# receivers dedupe. Each path's sender works on a View: the entries that path
# still owes, and its acks taken as that path's. Loaded only when the config
# names both paths (hub/dc09.py).
import json

from panel.compat import const
from uplink.outbox import Outbox, MemStore

_SEQ = const(0)     # an outbox entry's seq (uplink/outbox.py)


class PathsOutbox(Outbox):
    def __init__(self, store=None, capacity=64, paths=("mqtt", "dc09"), first=False,
                 acks=None):
        self.paths = paths
        self.first = first
        self.acked = {}            # seq -> [paths that acked it], while another has not
        self.acks = acks if acks is not None else MemStore()
        self._written = 0
        Outbox.__init__(self, store, capacity)
        for line in self.acks.load() or ():
            try:
                path, seqs = json.loads(line)
                self._apply(seqs, path)
            except Exception:      # a line torn by a power cut: at worst a path sends again
                pass
        self._save_acks()

    def ack(self, seqs, path=None):
        if path is None:
            return self._remove(seqs)
        mine = [e[_SEQ] for e in self.items if e[_SEQ] in seqs and not self.done(e[_SEQ], path)]
        if not mine:
            return 0
        if hasattr(self.acks, "append") and self._written < self.journal_limit:
            self.acks.append(json.dumps([path, mine]).encode())
            self._written += 1
        n = self._apply(mine, path)
        if self._written >= self.journal_limit:
            self._save_acks()
        return n

    def done(self, seq, path):
        return path in self.acked.get(seq, ())

    # ---- internals ----

    def _apply(self, seqs, path):
        if path not in self.paths:
            return 0                  # a path the config no longer has: it decides nothing
        queued = self.seqs()
        gone = []
        for seq in seqs:
            if seq not in queued:
                continue
            a = self.acked.setdefault(seq, [])
            if path not in a:
                a.append(path)
            if self.first or all(p in a for p in self.paths):
                gone.append(seq)
        return self._remove(gone) if gone else 0

    def _remove(self, seqs):
        n = Outbox.ack(self, seqs)
        for seq in seqs:
            self.acked.pop(seq, None)
        return n

    def _drop(self, victim, time_s):
        Outbox._drop(self, victim, time_s)
        # The victim's seq now carries the overflow report no path has sent,
        # and a replaced report's seq is gone: neither may keep old acks, on
        # flash either. (No acks held: no list of the queue's seqs to make.)
        if self.acked:
            queued = self.seqs()
            for seq in list(self.acked):
                if seq == victim[_SEQ] or seq not in queued:
                    del self.acked[seq]
        self._save_acks()

    def _save_acks(self):
        self._written = 0
        self.acks.save([json.dumps([p, [s for s in self.acked if p in self.acked[s]]]).encode()
                        for p in self.paths])


class View:
    """What one path's sender (uplink/link.py, uplink/dc09_link.py) sees: the
    outbox API it uses, limited to the signals this path has not acked."""

    def __init__(self, box, path):
        self.box = box
        self.path = path

    @property
    def epoch(self):
        return self.box.epoch

    def signal(self, e):
        return self.box.signal(e)

    def entries(self):
        for e in self.box.items:
            if not self.box.done(e[_SEQ], self.path):
                yield e

    def ack(self, seqs):
        return self.box.ack(seqs, self.path)
