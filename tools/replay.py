"""Replay a scenario through the panel: JSON Lines in, JSON Lines out.

    python -m tools.replay FILE [--runtime micropython|cpython] [--tick-start MS] [--pretty]

The default runtime is the real MicroPython interpreter running the firmware
files unchanged. --tick-start sets the panel's tick counter at t=0, so a
scenario can be run across the 2**30 ms wrap of the ESP32 tick counter.
--pretty prints a timeline a person reads (as `make demo` does) instead.
"""
import io
import json
import os
import select
import subprocess
import sys

from monitor import terminal
from tools import paths
from tools.sim import pretty


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
    ap = terminal.Parser(prog="python -m tools.replay", description=__doc__.split("\n")[0])
    ap.add_argument("file", help="scenario, JSON Lines ('-' for standard input)")
    ap.add_argument("--runtime", choices=("micropython", "cpython"), default="micropython")
    ap.add_argument("--tick-start", type=terminal.whole(), default=0,
                    help="panel tick counter at t=0 (0..2**30-1)")
    ap.add_argument("--pretty", action="store_true",
                    help="a readable timeline (as make demo prints) instead of JSON Lines")
    args = ap.parse_args(argv)
    tick0 = args.tick_start % (1 << 30)
    try:
        # Bytes: a line that is not UTF-8 is an error line, not the end of the replay.
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as e:
        terminal.refuse(ap.prog, "cannot read the scenario %s: %s" % (args.file, e.strerror))
    with stream:
        if args.pretty:
            return _pretty(stream, args.file, args.runtime, tick0, ap.prog)
        if args.runtime == "cpython":
            return 0 if run_cpython(stream, sys.stdout.write, tick0) else 2
        # Output streams straight through, line by line.
        done = subprocess.run([paths.venv_tool("micropython"), "-c", MP_MAIN % tick0],
                              stdin=stream, env=paths.micropython_env())
    if done.returncode and _reader_gone():
        return 0        # the reader stopped reading (`| head`): as quiet as CPython's side
    return done.returncode


def _reader_gone():
    """Whether our stdout is a pipe nobody reads any more. micropython ends with
    status 1 on that EPIPE (or by SIGPIPE), like on a real failure, so ask the pipe."""
    poller = select.poll()
    poller.register(sys.stdout.fileno(), select.POLLOUT)
    return any(ev & select.POLLERR for _, ev in poller.poll(0))


def _pretty(stream, name, runtime, tick0, prog):
    try:
        data = stream.read()
    except OSError as e:
        terminal.refuse(prog, "cannot read the scenario %s: %s" % (name, e.strerror))
    if runtime == "cpython":
        out = io.StringIO()
        status = 0 if run_cpython(io.BytesIO(data), out.write, tick0) else 2
        text = out.getvalue()
    else:
        done = subprocess.run([paths.venv_tool("micropython"), "-c", MP_MAIN % tick0],
                              input=data, capture_output=True, env=paths.micropython_env(),
                              timeout=300)
        if done.returncode not in (0, 2):
            sys.stderr.write(done.stderr.decode(errors="replace"))
            return done.returncode
        status, text = done.returncode, done.stdout.decode()
    lines = [dict(json.loads(line), source="hub") for line in text.splitlines() if line]
    print(pretty.timeline("stdin" if name == "-" else os.path.basename(name),
                          _notes(data), lines), flush=True)
    return status


def _notes(data):
    """The scenario's lines that are only a note: its captions."""
    notes = []
    for raw in data.splitlines():
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict) and set(item) == {"note"}:
            notes.append(str(item["note"]))
    return notes


if __name__ == "__main__":
    terminal.run(main)
