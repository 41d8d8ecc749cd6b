# Host shim over the built-in time module, for the simulation's clock.
#
# SIM_SPEED=N runs ticks_ms() N times faster (a 60 s exit delay passes in
# 60/N s). SIM_TICKS_START=T makes ticks_ms() start at T, so the firmware
# (which keeps ticks modulo 2**30, like the ESP32) crosses the 2**30 wrap soon
# after boot. ticks_ms() never runs behind the built-in clock.
#
# The ticks are the board's on every build: always masked to 30 bits, and
# ticks_add/ticks_diff are the board's, period 2**30. The built-in ones are
# not: on a 64-bit host micropython the period is 2**62 (ticks_ms() is not
# masked to 30 bits), and on a 32-bit one (the ESP32's word size,
# tools/mp32.py) ticks_add() refuses a delta of 2**29 or more, so the offset to
# the simulated start cannot go through it. The sums below never leave the
# small-int range of a 32-bit build (-2**30 .. 2**30 - 1): no heap.
#
# asyncio keeps the built-in tick arithmetic: its C task queue (_asyncio)
# stamps a task pushed without a time, and a cancelled one, with the built-in
# ticks, so asyncio's own `from time import ticks_ms, ticks_diff, ticks_add`
# gets the built-in ticks_add/ticks_diff and a ticks_ms() that runs at the
# simulation's speed but from the built-in clock, never behind it (no
# SIM_TICKS_START offset): a task stamped by C is always due at once, and
# asyncio's waits shorten with SIM_SPEED as before. (On a 32-bit build that
# holds while the speed-up has put it less than 2**29 ms, 6.2 days, ahead of
# the built-in clock.) The module-level __getattr__ below hands these three to
# that one import line (asyncio.core, mid-import, not yet holding ticks_add)
# and the board's to everyone else, whichever of the two is imported first.
# The firmware never hands asyncio a tick value, only durations.
#
# time() is the board's RTC: it starts at the epoch at every boot (nothing on
# a board sets it; the hub learns the real time from the monitor's acks or
# NTP), so the firmware sees here what it sees on a board, never the host's
# Unix time. It runs at real speed: the hub's adopted time then stays the
# wall time that the monitoring side and the app sign with.
import os
import sys
from utime import *  # noqa: F401,F403
import utime

_MASK = 0x3FFFFFFF      # the board's ticks period is 2**30 = _MASK + 1
_HALF = 0x20000000


def _add(a, b):
    # (a + b) mod 2**30 for a, b in 0 .. _MASK, within the 32-bit small ints.
    a -= _MASK - b
    return a - 1 if a > 0 else a + _MASK


def _ticks_add(ticks, delta):
    # The board's: ticks_diff(ticks_add(t, d), t) == d for -2**29 < d < 2**29.
    if not -_HALF < delta < _HALF:
        raise OverflowError("ticks interval overflow")
    return _add(ticks & _MASK, delta & _MASK)


def _ticks_diff(ticks1, ticks2):
    # The board's: signed ticks1 - ticks2 in -2**29 .. 2**29 - 1.
    d = (ticks1 & _MASK) - (ticks2 & _MASK)
    if d >= _HALF:
        return d - _MASK - 1
    if d < -_HALF:
        return d + _MASK + 1
    return d


_SPEED = int(os.getenv("SIM_SPEED") or 1)
_T0 = utime.ticks_ms()
_OFFSET = (int(os.getenv("SIM_TICKS_START") or _T0) - _T0) & _MASK
_RTC = [0]      # RTC seconds at _T0 (machine.RTC().datetime() sets it)
# How far ticks_ms() ran ahead of the built-in clock: [since (built-in ticks),
# ms ahead then, rate, real speed until (built-in ticks) or None]. A person at
# the simulated keypad types at a person's pace whatever SIM_SPEED is, so while
# someone types (person()) the hub's ticks run at real speed: the keypad's 5 s
# between two keys stays 5 real seconds. The rate never drops below 1, so
# ticks_ms() still never runs behind the built-in clock.
_AHEAD = [_T0, 0, _SPEED, None]


def _ahead(now):
    since, ahead, rate, until = _AHEAD
    if until is not None and utime.ticks_diff(now, until) >= 0:
        ahead += utime.ticks_diff(until, since) * (rate - 1)
        _AHEAD[:] = [until, ahead, _SPEED, None]
        since, rate = until, _SPEED
    return ahead + utime.ticks_diff(now, since) * (rate - 1)


def _ticks_ms():
    now = utime.ticks_ms()
    return _add(_add(now & _MASK, _OFFSET), _ahead(now) & _MASK)


def _asyncio_ms():
    now = utime.ticks_ms()
    return utime.ticks_add(now, _ahead(now))


_ASYNCIO = {"ticks_ms": _asyncio_ms, "ticks_add": utime.ticks_add,
            "ticks_diff": utime.ticks_diff}


# The board's three, looked up through __getattr__ (from utime import * above
# brought in the built-in ones: out with them).
del ticks_ms, ticks_add, ticks_diff  # noqa: F821
_BOARD = {"ticks_ms": _ticks_ms, "ticks_add": _ticks_add, "ticks_diff": _ticks_diff}


def __getattr__(name):
    fn = _BOARD.get(name)
    if fn is None:
        raise AttributeError(name)
    core = sys.modules.get("asyncio.core")
    if core is not None and not hasattr(core, "ticks_add"):
        return _ASYNCIO[name]           # asyncio.core's own import line
    if core is not None:
        globals()[name] = fn            # asyncio has its own: no more lookups by miss
    return fn


def person(ms):
    """Hub time at real speed for the next `ms` real milliseconds (a person types)."""
    now = utime.ticks_ms()
    _AHEAD[:] = [now, _ahead(now), 1, utime.ticks_add(now, ms)]


def time():
    return _RTC[0] + utime.ticks_diff(utime.ticks_ms(), _T0) // 1000


def set_rtc(seconds):
    _RTC[0] = seconds - utime.ticks_diff(utime.ticks_ms(), _T0) // 1000


def gmtime(secs=None):
    return utime.gmtime(time() if secs is None else secs)


def localtime(secs=None):
    return utime.gmtime(time() if secs is None else secs)
