"""The service's one source of time.

Everything in monitor/ asks a clock for the time instead of reading the wall
clock, so the engine can be tested on a fake clock (advance it, fire what is
due) and a simulation can run the service on a faster clock of its own."""
import time


class SystemClock:
    """The real clock: Unix ms, and real seconds to wait until a moment."""

    def now_ms(self):
        return int(time.time() * 1000)

    def wait_s(self, due_ms):
        """Real seconds from now until clock time due_ms (0 when it has passed)."""
        return max(0.0, (due_ms - self.now_ms()) / 1000.0)

    def unix_s(self):
        """The wall time in what the service signs (acks, commands): the hubs
        set their clocks from it and check commands against it, at real speed."""
        return int(time.time())

    def wall_ms(self, clock_ms):
        """The wall-clock ms at which this clock showed clock_ms (what a person's
        clock said then; a simulation's faster clock maps it back)."""
        return clock_ms


SYSTEM = SystemClock()
