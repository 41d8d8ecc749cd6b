"""Story time: ms of hub time since the story's zero.

The hub's clock runs `speed` times faster than the wall clock (SIM_SPEED), so
one real second is `speed` seconds of story time. Hub lines carry the hub's own
ticks (2**30 wrap); monitor lines carry wall-clock ms. Both are mapped here to
the same story time."""
import time

WRAP = 1 << 30
HALF = 1 << 29


def _signed(d):
    d &= WRAP - 1
    return d - WRAP if d >= HALF else d


class StoryClock:
    def __init__(self, speed):
        self.speed = speed
        self.zero_mono = None
        self.zero_wall_ms = None
        # ticks - speed * receive_ms, modulo 2**30. A line is read a little after
        # it was printed, so each sample is a lower bound of the true offset:
        # the largest one seen is the best.
        self._ref = None
        self._best = None

    def start(self, in_s=0.0):
        """Story time 0 is `in_s` real seconds from now."""
        self.zero_mono = time.monotonic() + in_s
        self.zero_wall_ms = (time.time() + in_s) * 1000

    def now(self):
        """Story ms now (0 at start())."""
        return int((time.monotonic() - self.zero_mono) * 1000 * self.speed)

    def real_wait(self, story_ms):
        """Seconds of real time until story time `story_ms`."""
        return max(0.0, story_ms / 1000.0 / self.speed - (time.monotonic() - self.zero_mono))

    def hub_sample(self, ticks, received_mono):
        off = (ticks - int(received_mono * 1000 * self.speed)) % WRAP
        if self._ref is None:
            self._ref, self._best = off, 0
        else:
            self._best = max(self._best, _signed(off - self._ref))

    def from_ticks(self, ticks):
        """Story ms of a hub tick value (needs one hub_sample and start())."""
        if self._ref is None:
            raise RuntimeError("no hub line seen yet to align the hub's clock")
        offset = self._ref + self._best
        tick0 = (int(self.zero_mono * 1000 * self.speed) + offset) % WRAP
        return _signed(ticks - tick0)

    def from_wall_ms(self, wall_ms):
        return int((wall_ms - self.zero_wall_ms) * self.speed)

class FastClock:
    """The monitoring service's clock in a simulation: it runs `speed` times
    faster than the wall clock from the moment it is made, like the hub's, so
    a 30 s ring lasts 30/speed real seconds (monitor/clock.py's interface)."""

    def __init__(self, speed):
        self.speed = speed
        self.epoch_ms = time.time() * 1000

    def now_ms(self):
        return int(self.epoch_ms + (time.time() * 1000 - self.epoch_ms) * self.speed)

    def wait_s(self, due_ms):
        return max(0.0, (due_ms - self.now_ms()) / 1000.0 / self.speed)

    def unix_s(self):
        # Only the service's timers run fast; what it signs carries the real
        # wall time, which the hub's clock (set from the acks) keeps at real speed.
        return int(time.time())

    def wall_ms(self, clock_ms):
        """The wall-clock ms at which this clock showed clock_ms."""
        return self.epoch_ms + (clock_ms - self.epoch_ms) / self.speed


class HubTime:
    """The hub's ticks now, as the page counts down to a hub deadline: from the
    last line the hub printed (its ticks, when it was read), its ticks running
    `speed` times fast except while a person is at the page (person(): real
    speed, as tools/shims/time.py runs them)."""

    def __init__(self, speed):
        self.speed = speed
        self.ref = None            # (ticks, monotonic s) of the newest hub line
        self.windows = []          # [(start, end)] monotonic s of real speed, merged

    def sample(self, ticks, received):
        self.ref = (ticks, received)

    def person(self, start, end):
        """Real speed from `start` until `end` (monotonic s); a window that
        overlaps the last one sets its new end (World.person decides it)."""
        if self.windows and start <= self.windows[-1][1]:
            self.windows[-1] = (self.windows[-1][0], end)
        else:
            self.windows.append((start, end))
        del self.windows[:-8]

    def now(self, mono=None):
        """The hub's ticks now (None before its first line)."""
        if self.ref is None:
            return None
        ticks, since = self.ref
        mono = time.monotonic() if mono is None else mono
        slow = sum(max(0.0, min(end, mono) - max(start, since)) for start, end in self.windows)
        ran = (mono - since) * self.speed - slow * (self.speed - 1)
        return (ticks + round(ran * 1000)) % WRAP

    def left_ms(self, deadline, mono=None):
        """Hub ms until the hub's tick `deadline` (0 once past)."""
        now = self.now(mono)
        return None if now is None else max(0, _signed(deadline - now))
