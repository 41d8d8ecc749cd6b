# 4x4 membrane keypad, scanned (never IRQ-driven: ESP32 pin IRQs are soft and
# queue only 8 deep, so a burst of key bounce would be lost).
#
# Rows are outputs driven low one at a time; columns are inputs with pull-ups,
# so a pressed key reads 0 on its column while its row is low.
#
# poll() gives events as tuples: (kind, keys), kind "press" (keys: the key),
# "hold" (the keys held) or "release" (no keys). hub/hub.py reads them by
# position, _KIND and _KEYS.


class KeypadScanner:
    stable_scans = 3     # a change must hold for 3 scans (about 30 ms) to count

    def __init__(self, rows, cols, keymap):
        # rows, cols: Pin-like objects with value(); keymap: one string per row.
        self.rows = rows
        self.cols = cols
        self.keymap = keymap
        self.down = ""        # debounced keys held down, in keymap order
        self._seen = ""
        self._count = 0
        for r in rows:
            r.value(1)

    def read(self):
        # The raw keys down right now.
        keys = ""
        for ri in range(len(self.rows)):
            row = self.rows[ri]
            row.value(0)
            for ci in range(len(self.cols)):
                if not self.cols[ci].value():
                    keys += self.keymap[ri][ci]
            row.value(1)
        return keys

    def poll(self):
        # Returns the panel inputs this scan produced:
        # ("press", key) for each newly pressed key, ("hold", keys) when two or
        # more are down together, ("release",) when all are up again.
        raw = self.read()
        if raw != self._seen:
            self._seen = raw
            self._count = 1
            return ()
        if self._count < self.stable_scans:
            self._count += 1
            if self._count < self.stable_scans:
                return ()
        else:
            return ()
        was = self.down
        self.down = raw
        events = []
        for k in raw:
            if k not in was:
                events.append(("press", k))
        if len(raw) >= 2 and raw != was:
            events.append(("hold", raw))
        if not raw and was:
            events.append(("release",))
        return events
