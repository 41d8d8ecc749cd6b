"""Throttling login guesses without handing a stranger a way to lock an operator out.

Three counts, each taken when an attempt is let through and before its
password is hashed (on the event loop, nothing awaited in between: guesses
sent at once are counted one by one, not all checked against the same count):

* per (user name, client address): `free` wrong passwords, then a wait that
  doubles with each further one. A stranger's guesses slow the stranger's
  own address; the operator's address keeps its own count.
* per client address, over all names: a hard ceiling in a sliding window
  (one address trying many names).
* per user name, over all addresses: when guesses for one name come from many
  addresses, each address gets a single free try. It never refuses an
  address that has guessed nothing wrong, so it cannot lock out the operator.

A right password clears its (user, address) count and takes back what the
attempt added to the others."""
import collections


class FailureLimit:
    """Attempts per key (a user name, a client address) in a sliding window."""

    def __init__(self, limit, window_s, clock):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.fails = collections.defaultdict(collections.deque)

    def _live(self, key):
        q = self.fails[key]
        cutoff = self.clock() - self.window_s
        while q and q[0] <= cutoff:
            q.popleft()
        if not q:
            del self.fails[key]
        return q

    def count(self, key):
        return len(self._live(key))

    def blocked_for(self, key):
        """Seconds until `key` may try again; 0 when it may now."""
        q = self._live(key)
        if len(q) < self.limit:
            return 0
        return max(1, int(q[0] + self.window_s - self.clock()) + 1)

    def failed(self, key):
        self.fails[key].append(self.clock())

    def forgive(self, key):
        """Take back the latest attempt (it turned out to be the right password)."""
        q = self.fails.get(key)
        if q:
            q.pop()
            if not q:
                del self.fails[key]


class Backoff:
    """Per key: `free` attempts, then waits of first_s doubling up to max_s.
    A key quiet for `forget_s` after its wait ends starts again from nothing."""

    def __init__(self, free, first_s, max_s, forget_s, clock):
        self.free, self.first_s, self.max_s = free, first_s, max_s
        self.forget_s = forget_s
        self.clock = clock
        self.tries = {}         # key -> [attempts counted, time of the last]

    def delay(self, n, free=None):
        over = n - (self.free if free is None else free)
        return 0 if over < 0 else min(self.max_s, self.first_s * 2 ** min(over, 40))

    def blocked_for(self, key, free=None):
        entry = self.tries.get(key)
        if entry is None:
            return 0
        n, last = entry
        ready = last + self.delay(n, free)
        now = self.clock()
        if now >= ready + self.forget_s:
            del self.tries[key]
            return 0
        return 0 if now >= ready else max(1, int(ready - now + 0.999))

    def failed(self, key):
        entry = self.tries.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] = self.clock()

    def clear(self, key):
        self.tries.pop(key, None)


class LoginThrottle:
    def __init__(self, config):
        c = config
        self.pair = Backoff(c.login_free_fails, c.login_delay_s, c.login_max_delay_s,
                            c.login_window_s, c.clock)
        self.per_address = FailureLimit(c.login_fails_per_address, c.login_window_s, c.clock)
        self.per_user = FailureLimit(c.login_user_ceiling, c.login_window_s, c.clock)

    def begin(self, name, address):
        """0 and the attempt counted (as wrong until succeeded() says otherwise),
        or the seconds to wait and nothing counted."""
        # Guessed from many addresses: one free try each (the first one costs nothing).
        free = 1 if self.per_user.blocked_for(name) else None
        wait = max(self.pair.blocked_for((name, address), free),
                   self.per_address.blocked_for(address))
        if wait:
            return wait
        self.pair.failed((name, address))
        self.per_address.failed(address)
        self.per_user.failed(name)
        return 0

    def succeeded(self, name, address):
        self.pair.clear((name, address))
        self.per_address.forgive(address)
        self.per_user.forgive(name)
