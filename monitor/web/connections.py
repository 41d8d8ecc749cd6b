"""How many connections the web server holds, from whom, and for how long.

uvicorn on its own times out only the wait between two requests: a
connection that sends half a request (slowloris) keeps its slot for ever,
and once its connections reach uvicorn's limit every request, a logged-in
operator's too, is answered 503. So here:

- a deadline for the whole of a request's header, counted from its first
  byte (or from the connect): trickling a byte at a time does not extend it;
- a limit on connections per client address, so one address cannot take the
  slots everyone else needs (a trusted proxy is exempt: every client comes
  from its address);
- a cap on all connections below the process's file descriptors, leaving room
  for the store, the broker and the DC-09 listener; beyond it a connection is
  closed at once rather than the process failing to open its own files.
"""
import resource

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0     # a browser sends its whole header in one go
PER_ADDRESS = 64            # a browser opens 6 per host; an office behind one NAT a few times that
CAP_CEILING = 2000          # more than this is not an operator console's load
# Descriptors kept for everything else in the process: the store's files or
# PostgreSQL connections, the broker, the DC-09 listener's 64 panels, logs, pipes.
RESERVED_FDS = 256

_WHY = b"the request's header took too long"
TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
             b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_WHY), _WHY))


def connection_cap(nofile=None):
    """Connections the server may hold: below RLIMIT_NOFILE's soft limit by RESERVED_FDS."""
    if nofile is None:
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if nofile == resource.RLIM_INFINITY:
        return CAP_CEILING
    return max(1, min(CAP_CEILING, nofile - max(RESERVED_FDS, nofile // 4)))


class Limits:
    """What the connections of one server share: open connections per address."""

    def __init__(self, cap=None, per_address=PER_ADDRESS, header_timeout_s=HEADER_TIMEOUT_S,
                 exempt=()):
        self.cap = connection_cap() if cap is None else cap
        self.per_address = per_address
        self.header_timeout_s = header_timeout_s
        self.exempt = set(exempt)
        self.by_address = {}
        self.refused = 0
        self.timed_out = 0

    def protocol(self):
        """The class uvicorn makes each connection's protocol from (Config(http=...))."""
        limits = self

        class Guarded(GuardedH11):
            pass
        Guarded.limits = limits
        return Guarded


class GuardedH11(H11Protocol):
    limits = None
    _deadline = None
    _counted = False

    def connection_made(self, transport):
        super().connection_made(transport)
        lim = self.limits
        self._address = self.client[0] if self.client else None
        if len(self.connections) > lim.cap or (
                self._address not in lim.exempt
                and lim.by_address.get(self._address, 0) >= lim.per_address):
            lim.refused += 1
            transport.abort()       # no answer: writing one would hold the slot until it is read
            return
        self._counted = True
        lim.by_address[self._address] = lim.by_address.get(self._address, 0) + 1
        self._start_deadline()

    def connection_lost(self, exc):
        self._stop_deadline()
        if self._counted:
            self._counted = False
            n = self.limits.by_address.pop(self._address, 1) - 1
            if n > 0:
                self.limits.by_address[self._address] = n
        super().connection_lost(exc)

    def data_received(self, data):
        # The first byte of a request on a kept-alive connection starts its
        # deadline (uvicorn's keep-alive timeout watched the wait before it).
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._start_deadline()
        super().data_received(data)

    def handle_events(self):
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._stop_deadline()           # the header is in: the app has the request

    def _start_deadline(self):
        self._stop_deadline()
        self._deadline = self.loop.call_later(self.limits.header_timeout_s, self._too_slow)

    def _stop_deadline(self):
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self):
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        self.limits.timed_out += 1
        if self.conn.our_state is h11.IDLE:
            self.transport.write(TIMED_OUT)
        self.transport.close()
