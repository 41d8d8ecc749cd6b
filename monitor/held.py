"""Signals received while the case store fails, held in memory for the engine's
retry (none of them was acked, so each hub still has its own copy too).

A hub resends an unacked signal byte for byte every 30 s, so a long outage
would fill memory with copies: a resend already held is not held twice, and
past MAX_HELD the newest are let go (still unacked, counted; the hub resends
them once the store is back)."""
import collections
import queue

from monitor.case_record import Refused
from monitor.items import Msg

MAX_HELD = 50_000       # ~ 25 MB of signed events


class Held:
    def __init__(self, limit=MAX_HELD):
        self.limit = limit
        self.items = collections.OrderedDict()      # (topic, payload) -> Msg
        self.let_go = 0

    def __len__(self):
        return len(self.items)

    def add(self, item):
        """item: a Msg. A copy keeps the first one's place (and arrival time)."""
        key = (item.topic, item.payload)
        if key in self.items:
            return
        if len(self.items) >= self.limit:
            self.let_go += 1
            return
        self.items[key] = item

    def take(self, n):
        """Up to n held items, oldest first, for an attempt. They stay held (and
        counted) until done() says the attempt is over."""
        out = []
        for item in self.items.values():
            if len(out) >= n:
                break
            out.append(item)
        return out

    def done(self, items):
        """These were stored and acked, or dropped for good: no longer held."""
        for item in items:
            if type(item) is Msg:
                self.items.pop((item.topic, item.payload), None)

    def oldest_ms(self):
        for item in self.items.values():
            return item.arrived_ms
        return None

    def hold(self, items, why):
        """While the store fails: messages into the hold; console actions
        refused at once (a person is waiting on them). why: the store's fault, in words."""
        for item in items:
            if type(item) is Msg:
                self.add(item)
            elif not item.future.done():
                item.future.set_exception(Refused("the case store is failing (%s): try again"
                                                  % why))

    def hold_queued(self, q, why):
        """Everything on the engine's queue into the hold (see hold). True when
        the queue says stop (None)."""
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            self.hold([item], why)
