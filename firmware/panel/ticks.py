# Tick arithmetic on the ESP32's wrapping millisecond counter.
# time.ticks_ms() wraps at 2**30 on the board (about 12.4 days) but not on every
# port, so the panel does its own modular arithmetic and never compares ticks
# with < or >.
#
# A signed difference alone cannot tell 2**29 + x ms from -x ms, so the panel
# never asks "how far apart" without knowing which way time went:
# - since(now, t) for an instant already past: its age, exact up to 2**30 ms.
# - until(now, d) for a deadline, which the panel only ever sets at most AHEAD
#   ms into the future: exact from AHEAD ahead to 2**30 - AHEAD overdue.
# Beyond those spans the values repeat, so the panel also forgets every past
# instant once its age passes the limit it is compared with (a few minutes to
# a day, far below 2**30) and fires every deadline at the first input after it
# is due. Its inputs come at least once a minute (it asks through next_due),
# so nothing it keeps ever grows old enough to alias, however many wraps pass:
# an age read is exact or the instant is gone, and gone means "long ago".
from panel.compat import const

PERIOD = const(0x40000000)
_MASK = const(0x3FFFFFFF)
_HALF = const(0x20000000)
AHEAD = const(0x400000)   # ~70 min: longer than any delay the config allows (30 min)


def add(t, ms):
    return (t + ms) & _MASK


def diff(a, b):
    # Signed a - b, like time.ticks_diff: positive when a is later than b.
    return ((a - b + _HALF) & _MASK) - _HALF


def since(now, t):
    # Age of a past instant t: 0 .. 2**30 - 1, never negative.
    return (now - t) & _MASK


def until(now, d):
    # ms from now to deadline d; negative (overdue) once d has passed.
    ahead = (d - now) & _MASK
    return ahead if ahead <= AHEAD else ahead - PERIOD


def due(now, deadline):
    return deadline is not None and until(now, deadline) <= 0


def earliest(now, a, b):
    if a is None:
        return b
    if b is None or until(now, a) < until(now, b):
        return a
    return b
