# Host shim over the built-in time module, for the simulation's clock.
#
# SIM_SPEED=N runs ticks_ms() N times faster (a 60 s exit delay passes in
# 60/N s). SIM_TICKS_START=T makes the low 30 bits of ticks_ms() start at T,
# so the firmware (which keeps ticks modulo 2**30, like the ESP32) crosses the
# 2**30 wrap soon after boot. ticks_ms() never runs behind the built-in clock
# and ticks_add/ticks_diff stay the built-in ones: asyncio's scheduler mixes
# both clocks and keeps working, and its sleeps still take real time.
#
# time() is the board's RTC: it starts at the epoch at every boot (nothing on
# a board sets it; the hub learns the real time from the monitor's acks or
# NTP), so the firmware sees here what it sees on a board, never the host's
# Unix time. It runs at real speed: the hub's adopted time then stays the
# wall time that the monitoring side and the app sign with.
import os
from utime import *  # noqa: F401,F403
import utime

_SPEED = int(os.getenv("SIM_SPEED") or 1)
_T0 = utime.ticks_ms()
_OFFSET = (int(os.getenv("SIM_TICKS_START") or _T0) - _T0) & 0x3FFFFFFF
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


def ticks_ms():
    now = utime.ticks_ms()
    return utime.ticks_add(now, (_OFFSET + _ahead(now)) & 0x3FFFFFFF)


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
