# What the hub will read from the broker: a bound on every incoming packet.
#
# umqtt.simple's wait_msg() reads a whole PUBLISH into memory before anyone can
# look at it: a retained message of a few MB on the command topic exhausts the
# board's heap or the socket timeout, the link reconnects, the broker sends it
# again, and queued alarms wait. Inbound sits between umqtt and the socket and
# reads each packet's fixed header (type and remaining length) before umqtt
# does. A PUBLISH longer than `limit` is never handed to umqtt: its bytes are
# discarded (a slice per poll while nothing else needs the socket, at once
# when umqtt waits for a PUBACK behind it), a QoS 1 one is acknowledged so it
# takes no place in the broker's in-flight window, and it is counted in
# stats["oversize"]. Everything else passes through unchanged.
#
# It also keeps the fixed-header byte of the packet started last (`op`): umqtt
# passes on neither the retain flag of a message nor a PINGRESP.
#
# And it takes the SUBACKs the link does not let umqtt wait for: umqtt's
# subscribe() blocks until its SUBACK, which may come seconds later (a NATS
# node that has just lost a peer; for a QoS 1 subscription it makes a
# replicated JetStream consumer first). With `defer` set, umqtt's first read
# after writing the SUBSCRIBE raises EAGAIN at once; the SUBACK, whenever it
# comes, is read here (inside check_msg, or while umqtt waits for a PUBACK)
# and counted off `subacks`, never handed to umqtt, whose loops would take
# its packet id for the next packet's header.
# umqtt.simple 1.3.4, 1.7.0 and 1.8 use only read(n), write, setblocking and
# close of a connected socket, so this wraps any of them.

import errno

from panel.compat import const

_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBACK = const(0x90)
_REFUSED = const(0x80)      # SUBACK's failure code (a NATS node electing a stream leader)
_CHUNK = const(512)


class Inbound:
    budget = 16384      # bytes of an oversize message discarded per poll, at most

    def __init__(self, stream, limit, stats):
        self.s = stream
        self.limit = limit          # largest remaining length of a PUBLISH accepted
        self.stats = stats
        self.op = 0
        self.head = b""             # fixed-header bytes read ahead, umqtt's to read next
        self.left = 0               # body bytes of the current packet umqtt has not read
        self.blocking = True        # umqtt waits for an answer (not check_msg)
        self.skip = 0               # bytes of an oversize message still to discard
        self.defer = False          # umqtt's next wait for a packet raises EAGAIN
        self.subacks = 0            # SUBACKs due that umqtt does not wait for

    def draining(self):
        return self.skip > 0

    def drain(self, budget):
        """Discard up to `budget` bytes of an oversize message (None: all of it).

        With a budget, reads only what has already arrived."""
        if budget is not None:
            self.s.setblocking(False)
        try:
            while self.skip and (budget is None or budget > 0):
                d = self.s.read(self.skip if self.skip < _CHUNK else _CHUNK)
                if d is None:
                    break                   # nothing more has arrived yet
                if not d:
                    raise OSError(-1)       # the broker closed the connection
                self.skip -= len(d)
                if budget is not None:
                    budget -= len(d)
        finally:
            if budget is not None:
                self.s.setblocking(self.blocking)

    # ---- the socket interface umqtt.simple uses ----

    def read(self, n):
        if n == 0:
            return b""
        if not self.head and self.left == 0 and not self._start():
            return None             # nothing yet (check_msg), or an oversize message dropped
        out = b""
        if self.head:
            out = self.head[:n]
            self.head = self.head[n:]
            n -= len(out)
        if n:
            d = self.s.read(n)
            if d:
                self.left -= len(d)
                out = out + d if out else d
            elif not out:
                return d
        return out

    def write(self, buf, n=None):
        if n is None:
            return self.s.write(buf)
        return self.s.write(buf, n)

    def setblocking(self, flag):
        self.blocking = flag
        self.s.setblocking(flag)

    def close(self):
        return self.s.close()

    # ---- internals ----

    def _start(self):
        # At a packet boundary: read the next fixed header. False when there is
        # no packet for umqtt now.
        while True:
            if self.defer:
                self.defer = False
                raise OSError(errno.EAGAIN)     # the link waits for the SUBACK itself
            if self.skip:
                self.drain(None if self.blocking else self.budget)
                if self.skip:
                    return False
            b = self.s.read(1)
            if not b:
                if b is None:
                    return False
                raise OSError(-1)
            self.s.setblocking(True)    # the rest of the header follows at once
            head = b
            size = 0
            shift = 0
            while True:
                c = self._exact(1)
                head += c
                size |= (c[0] & 0x7F) << shift
                if not c[0] & 0x80:
                    break
                shift += 7
                if shift > 21:
                    raise OSError(-1)   # not MQTT: a remaining length has at most 4 bytes
            op = b[0]
            if op == _SUBACK and self.subacks and size == 3:
                granted = self._exact(3)[2]
                if granted == _REFUSED:
                    self.stats["refused_subscriptions"] = \
                        self.stats.get("refused_subscriptions", 0) + 1
                    raise OSError(errno.ECONNREFUSED)
                self.subacks -= 1
                if not self.blocking:
                    self.s.setblocking(False)
                continue
            if op & 0xF0 != _PUBLISH or size <= self.limit:
                self.op = op
                self.head = head
                self.left = size
                if not self.blocking:
                    self.s.setblocking(False)   # umqtt sets blocking itself next
                return True
            self.stats["oversize"] = self.stats.get("oversize", 0) + 1
            topic = self._exact(2)
            self.skip = topic[0] << 8 | topic[1]
            size -= 2 + self.skip
            if op & 6:
                # QoS 1: acknowledged, so it holds no place in the broker's
                # in-flight window. The topic before the packet id is 64 KB at most.
                self.drain(None)
                self.s.write(bytes((_PUBACK, 2)) + self._exact(2))
                size -= 2
            self.skip += size
            if not self.blocking:
                self.s.setblocking(False)

    def _exact(self, n):
        d = self.s.read(n)
        if not d or len(d) != n:
            raise OSError(-1)           # cut short: the link drops and reconnects
        return d
