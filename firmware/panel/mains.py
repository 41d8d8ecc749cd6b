# Mains supervision, the trade's AC loss trouble (Contact ID 301): when the
# mains fails the hub runs on its battery or UPS, and the central station must
# know before the battery runs down. Pure: the hub hands in the mains-sense
# level with `now` (ms ticks, 2**30 wrap); poll() says which signal is due.
#
# Like every stock panel, a loss is reported only once the mains has stayed off
# for the config's ac_loss_delay: a flicker or a breaker reset says nothing,
# and in a regional cut the station is not flooded by the blink before it. A
# restore is reported only for a loss that was, once the mains has held for
# restore_ms, so a supply that comes and goes is one restore, not a stream.
#
# An instant is kept only until it has been acted on (ticks.py): the delays
# are minutes, far below the 2**30 ms an age can be read across.
from panel import ticks


class Mains:
    restore_ms = 10000

    def __init__(self, delay_ms):
        self.delay_ms = delay_ms
        self.lost = False       # E301 went out, R301 is owed: kept across a reboot
        self.on = None          # the last level read; None before the first
        self._since = None      # when that level began, until it has been acted on

    def poll(self, now, on):
        """'E' when the loss is due, 'R' when its restore is, else None."""
        if on != self.on:
            self.on = on
            self._since = now
            return None
        if self._since is None:
            return None
        if on != self.lost:
            self._since = None     # on and nothing owed, or off and already told
            return None
        if ticks.since(now, self._since) < (self.restore_ms if on else self.delay_ms):
            return None
        self._since = None
        self.lost = not on
        return "R" if on else "E"
