# CPython's stand-in for MicroPython's built-in `micropython` module, so the
# firmware can say `from micropython import const` without a try/except in
# every module (about 30 bytes of .mpy each). MicroPython always imports its
# built-in module, never this file, and the board image leaves it out
# (tools/mpy_build.py HOST_ONLY).


def const(x):
    return x
