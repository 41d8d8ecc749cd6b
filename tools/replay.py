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
    paths.use_firmware_in_cpython()
    from panel.replay import Replay
    r = Replay(write, os.urandom, tick0)
    for line in stream:
        r.feed(line)
    return r.errors


def run_micropython(path, tick0=0):
    """Output lines of the scenario at `path` under the host micropython."""
    mp = paths.venv_tool("micropython")
    with open(path, "rb") as f:
        done = subprocess.run(
            [mp, "-c", "from panel.replay import main; main(%d)" % tick0],
            stdin=f, capture_output=True, env=paths.micropython_env(), timeout=300)
    if done.returncode != 0:
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
        stream = sys.stdin if args.file == "-" else open(args.file)
        with stream:
            run_cpython(stream, sys.stdout.write, tick0)
        return 0
    path = args.file
    if path == "-":
        path = "/dev/stdin"
    sys.stdout.write(run_micropython(path, tick0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
