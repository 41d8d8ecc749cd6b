# Tick arithmetic on the ESP32's wrapping millisecond counter.
# time.ticks_ms() wraps at 2**30 on the board (about 12.4 days) but not on every
# port, so the panel does its own modular arithmetic and never compares ticks
# with < or >. Any two instants it compares are less than 2**29 ms apart.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

PERIOD = const(0x40000000)
_MASK = const(0x3FFFFFFF)
_HALF = const(0x20000000)


def add(t, ms):
    return (t + ms) & _MASK


def diff(a, b):
    # Signed a - b, like time.ticks_diff: positive when a is later than b.
    return ((a - b + _HALF) & _MASK) - _HALF


def due(now, deadline):
    return deadline is not None and diff(now, deadline) >= 0


def earliest(a, b):
    if a is None:
        return b
    if b is None or diff(a, b) < 0:
        return a
    return b
