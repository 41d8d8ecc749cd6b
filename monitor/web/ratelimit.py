"""Failed-login counting per key (a user name, a client address) in a sliding window."""
import collections


class FailureLimit:
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

    def blocked_for(self, key):
        """Seconds until `key` may try again; 0 when it may now."""
        q = self._live(key)
        if len(q) < self.limit:
            return 0
        return max(1, int(q[0] + self.window_s - self.clock()) + 1)

    def failed(self, key):
        self.fails[key].append(self.clock())

    def clear(self, key):
        self.fails.pop(key, None)
