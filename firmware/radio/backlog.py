# The adverts waiting for the hub loop, bounded, handed out in the order the
# sensors sent them.
#
# aioble's IRQ appends every advert to a list and its scan iterator pops from
# the end, so adverts that piled up while the loop was busy (a flash write, a
# long step) come out newest first. Judged in that order, a door's "open"
# (counter 12) arrives after its "close" (13), looks like a replay and is lost.
# So the scan task only queues here; the loop takes the whole batch at once,
# oldest first, and each sensor's encrypted adverts in counter order, before
# any replay check. Plain sensors have no counter: their arrival order stands.
from panel.compat import const

_ENCRYPTED = const(0x01)
_VERSION_MASK = const(0xE0)
_VERSION_2 = const(0x40)
_COUNTER_AND_MIC = const(8)
# A queued advert, a tuple read by these positions: (mac, data, rssi).
_MAC = const(0)
_DATA = const(1)


def _counter(data):
    # The counter sits in clear before the MIC; -1 when there is none. A forged
    # counter only moves its advert within the batch: the MIC still decides.
    if len(data) > _COUNTER_AND_MIC and data[0] & _VERSION_MASK == _VERSION_2 \
            and data[0] & _ENCRYPTED:
        return int.from_bytes(data[-8:-4], "little")
    return -1


class Backlog:
    def __init__(self, size):
        self.size = size
        self.items = []     # (mac, data, rssi) as the scanner handed them

    def __len__(self):
        return len(self.items)

    def put(self, mac, data, rssi):
        """Queue one advert; False when full (the caller counts the loss)."""
        for m, d, _ in self.items:
            if d == data and m == mac:
                return True     # the sensor repeating itself: one copy is enough
        if len(self.items) >= self.size:
            return False
        self.items.append((mac, data, rssi))
        return True

    def take(self):
        """Every waiting advert, oldest first, each sensor's in counter order."""
        items = self.items
        if not items:
            return ()       # the usual case, every 10 ms: allocate nothing
        self.items = []
        items.reverse()
        n = len(items)
        done = []
        for i in range(n):
            mac = items[i][_MAC]
            if mac in done:
                continue
            done.append(mac)
            slots = [j for j in range(i, n) if items[j][_MAC] == mac]
            if len(slots) > 1:
                mine = [items[j] for j in slots]
                order = sorted(range(len(mine)), key=lambda k: (_counter(mine[k][_DATA]), k))
                for j, k in zip(slots, order):
                    items[j] = mine[k]
        return items
