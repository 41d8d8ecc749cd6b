"""micropython-lib's real aioble on the host, over the `bluetooth` stand-in
(tools/shims/bluetooth.py), wherever a micropython-lib tree is at hand.

The board runs aioble as `mpremote mip install aioble` gives it (tools/deploy.py);
the host runs the same source, pinned to VERSION, from
- MICROPYLIB_SRC: a micropython-lib checkout, or
- MICROPY_SRC/lib/micropython-lib: the submodule of the MicroPython tree that
  tools/mp32.py builds from.
No registry here serves it, so without one the host keeps tools/shims/aioble,
which imitates it, and the tests that compare the two say why they skip.
"""
import os
import re

from tools import paths

SHIMS = os.path.join(paths.ROOT, "tools", "shims")

VERSION = "0.6.1"       # micropython-lib v1.28.0's aioble (its manifest.py)
_IN_LIB = os.path.join("micropython", "bluetooth", "aioble")


def source(env=None):
    """(the directory holding the aioble package, None), or (None, one line saying why not)."""
    env = os.environ if env is None else env
    if env.get("MICROPYLIB_SRC"):
        lib = env["MICROPYLIB_SRC"]
        named = "MICROPYLIB_SRC=%s" % lib
    elif env.get("MICROPY_SRC"):
        lib = os.path.join(env["MICROPY_SRC"], "lib", "micropython-lib")
        named = "MICROPY_SRC=%s has no micropython-lib at lib/micropython-lib" % env["MICROPY_SRC"]
    else:
        return None, ("no micropython-lib tree (set MICROPYLIB_SRC, or MICROPY_SRC to a MicroPython"
                      " tree with its lib/micropython-lib): the host runs tools/shims/aioble")
    here = os.path.abspath(os.path.join(lib, _IN_LIB))
    manifest = os.path.join(here, "manifest.py")
    if not os.path.exists(os.path.join(here, "aioble", "central.py")) or \
            not os.path.exists(manifest):
        return None, "%s: no aioble there (%s)" % (named, _IN_LIB)
    with open(manifest) as f:
        got = re.search(r'metadata\(version="([^"]+)"', f.read())
    got = got.group(1) if got else "?"
    if got != VERSION:
        return None, ("%s holds aioble %s, not %s (micropython-lib of MicroPython v1.28.0)"
                      % (named, got, VERSION))
    return here, None


def micropython_path(real):
    """MICROPYPATH entries that make `import aioble` the real one (over the bluetooth
    stand-in) or the stand-in aioble: both put tools/shims on the path."""
    return [real, SHIMS] if real else [SHIMS]
