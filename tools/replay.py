"""Replay a scenario through the panel: JSON Lines in, JSON Lines out.

    python -m tools.replay FILE [--runtime micropython|cpython] [--tick-start MS]

The default runtime is the real MicroPython interpreter running the firmware
files unchanged. --tick-start sets the panel's tick counter at t=0, so a
scenario can be run across the 2**30 ms wrap of the ESP32 tick counter.
"""
import argparse
import os
import subprocess
import sys

from tools import paths


def run_cpython(stream, write, tick0=0):
    """Replay in this process; returns False when the config was refused."""
    from panel.replay import Replay
    r = Replay(write, os.urandom, tick0)
    for line in stream:
        r.feed(line)
    return r.panel is not None


MP_MAIN = ("import sys\nfrom panel.replay import main\n"
           "sys.exit(0 if main(%d).panel is not None else 2)")


def run_micropython(path, tick0=0, check=True):
    """Output lines of the scenario at `path` under the host micropython."""
    mp = paths.venv_tool("micropython")
    with open(path, "rb") as f:
        done = subprocess.run([mp, "-c", MP_MAIN % tick0], stdin=f, capture_output=True,
                              env=paths.micropython_env(), timeout=300)
    if done.returncode not in (0, 2) or (check and done.returncode):
        raise RuntimeError("micropython failed:\n" + done.stderr.decode(errors="replace")
                           + done.stdout.decode(errors="replace")[-2000:])
    return done.stdout.decode()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.replay", description=__doc__.split("\n")[0])
    ap.add_argument("file", help="scenario, JSON Lines ('-' for standard input)")
    ap.add_argument("--runtime", choices=("micropython", "cpython"), default="micropython")
    ap.add_argument("--tick-start", type=int, default=0,
                    help="panel tick counter at t=0 (0..2**30-1)")
    args = ap.parse_args(argv)
    tick0 = args.tick_start % (1 << 30)
    if args.runtime == "cpython":
        # Bytes: a line that is not UTF-8 is an error line, not the end of the replay.
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
        with stream:
            return 0 if run_cpython(stream, sys.stdout.write, tick0) else 2
    path = "/dev/stdin" if args.file == "-" else args.file
    mp = paths.venv_tool("micropython")
    with open(path, "rb") as f:
        # Output streams straight through, line by line.
        return subprocess.run([mp, "-c", MP_MAIN % tick0], stdin=f,
                              env=paths.micropython_env()).returncode


if __name__ == "__main__":
    sys.exit(main())
