# The hub's wall clock (Unix seconds), and whether it can be trusted.
#
# A board's RTC starts near its epoch at every boot and nothing on the board
# sets it, so the clock is "unset" until a source gives the time: the
# monitoring side's signed acks carry its time (the link adopts it only from
# an ack that answers a signal sent on this connection), and NTP where it is
# reachable. NTP is unauthenticated, so it only sets a clock the monitor has
# not set; the monitor's time always wins, also backwards (its clock is the one
# its signed commands are stamped with). The RTC keeps counting in between;
# each adoption corrects the drift. Signed commands are refused while the clock
# is unset (docs/protocol.md): their `ts` window cannot be applied.
import time
from panel import ticks

from panel.compat import const

EARLIEST = const(1577836800)     # 2020-01-01: any time before it is not a real time
_EPOCH_2000 = const(946684800)   # ports whose time() counts from 2000-01-01


# Seconds from the Unix epoch to the port's (gmtime(0) is the port's epoch).
_EPOCH = _EPOCH_2000 if time.gmtime(0)[0] == 2000 else 0


class Clock:
    window_s = 300               # a signed command's ts may differ this much
    ntp_retry_ms = 600000        # NTP again after a failure (while connected)
    ntp_every_ms = 21600000      # and every 6 h once it answered

    def __init__(self, rtc=None, ntp_host=None):
        self._rtc = rtc or _rtc_seconds   # () -> the board's seconds since the Unix epoch
        self.offset = 0
        self.source = None       # None while unset, else "monitor" or "ntp"
        self.refused = 0         # times offered and not adopted (implausible, or NTP over the monitor)
        self.ntp_host = ntp_host
        self.ntp_failures = 0
        self._ntp_next = None

    def now(self):
        """Unix seconds as well as the hub knows them (small while unset)."""
        return self._rtc() + self.offset

    def trusted(self):
        return self.source is not None

    def adopt(self, unix_s, source):
        """Take the time from a trusted source. Returns True when adopted."""
        if not isinstance(unix_s, int) or unix_s is True or unix_s is False \
                or unix_s < EARLIEST:
            self.refused += 1
            return False
        if source == "ntp" and self.source == "monitor":
            self.refused += 1
            return False
        self.offset = unix_s - self._rtc()
        self.source = source
        return True

    def report(self):
        return {"source": self.source, "refused": self.refused, "ntp_failures": self.ntp_failures}

    def poll_ntp(self, now_ms, online):
        # One NTP query at most every ntp_retry_ms, and only while the uplink is
        # connected: the query resolves the host and waits for one UDP answer,
        # so it can hold the loop for up to about ntptime.timeout (1 s).
        if not self.ntp_host or not online or self.source == "monitor":
            return
        if self._ntp_next is not None and ticks.diff(now_ms, self._ntp_next) < 0:
            return
        self._ntp_next = ticks.add(now_ms, self.ntp_retry_ms)
        try:
            import ntptime
        except ImportError:
            self.ntp_host = None          # no NTP client on this firmware
            return
        try:
            ntptime.host = self.ntp_host
            ntptime.timeout = 1
            t = ntptime.time() + _EPOCH
        except Exception:
            self.ntp_failures += 1
            return
        if self.adopt(t, "ntp"):
            self._ntp_next = ticks.add(now_ms, self.ntp_every_ms)


def _rtc_seconds():
    return int(time.time()) + _EPOCH
