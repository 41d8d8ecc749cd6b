"""Scenario replay on malformed input, found by fuzzing: every malformed line is
an error line naming its number, nothing crashes, and the replay always ends,
under CPython and the real micropython (the core is firmware/panel/replay.py)."""
import json
import os
import re
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tools import paths, replay

from panel.replay import MAX_T, Replay

pytestmark = pytest.mark.fast

FIELDS = ["t", "keys", "hold", "ms", "zone", "event", "command", "until", "note", "config",
          "action", "bogus"]
NUMBERS = st.one_of(st.integers(-5, 200000), st.sampled_from(
    [MAX_T + 1, 2 ** 31, 2 ** 62, 10 ** 30, -(10 ** 30), -1]), st.floats(allow_nan=False,
                                                                       allow_infinity=False))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=12),
                    st.sampled_from(["1234A", "1234C", "*", "#", "D", "front_door", "open",
                                     "ARM_AWAY", "DISARM", "SOS"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS + ["code", "service"]),
                                                 inner, max_size=4)), max_leaves=12)
OBJECTS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4)


def raw(deepest):
    return st.one_of(
        OBJECTS.map(json.dumps),
        VALUES.map(json.dumps),                              # JSON that is not an object
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
        st.integers(1, deepest).map(lambda n: "[" * n + "]" * n),
        st.integers(1, deepest).map(lambda n: '{"a":' * n + "1" + "}" * n),
    )


# CPython's json gives up near 1000 levels of nesting, MicroPython's does not:
# lines deeper than that are valid JSON to one runtime only, so the comparison
# of the two stays below it. Each runtime alone gets the deep ones.
RAW = raw(20000)
RAW_SHALLOW = raw(500)
LINES = st.lists(RAW, min_size=1, max_size=25)


def as_bytes(line):
    return line if isinstance(line, bytes) else line.encode()


def run_cpython(lines):
    out = []
    r = Replay(out.append, os.urandom)
    for line in lines:
        r.feed(as_bytes(line) + b"\n")
    return [json.loads(x) for x in out]


def error_lines(out):
    nums = []
    for o in out:
        if "error" in o and "field" not in o:
            m = re.match(r"line (\d+): ", o["error"])
            assert m, o                                      # every error names its line
            nums.append(int(m.group(1)))
    return nums


def must_be_errors(lines):
    # Lines any reading of the format calls malformed: not JSON, not an object,
    # or a t that is not whole ms.
    bad = []
    for n, line in enumerate(lines, 1):
        try:
            item = json.loads(as_bytes(line).decode())
        except (ValueError, RecursionError):
            if as_bytes(line).strip():
                bad.append(n)
            continue
        if not isinstance(item, dict):
            bad.append(n)
        elif "t" in item and "config" not in item and (
                not isinstance(item["t"], int) or isinstance(item["t"], bool) or item["t"] < 0
                or item["t"] > MAX_T):
            bad.append(n)
    return bad


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(LINES)
def test_malformed_lines_are_numbered_errors_and_the_replay_ends_cpython(lines):
    started = time.monotonic()
    out = run_cpython(lines)
    assert time.monotonic() - started < 20
    errors = error_lines(out)
    assert set(must_be_errors(lines)) <= set(errors), (lines, out)
    assert all(1 <= n <= len(lines) for n in errors)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(RAW_SHALLOW, min_size=20, max_size=60))
def test_micropython_reports_the_same_lines_and_ends(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "lines.jsonl"
    path.write_bytes(b"".join(as_bytes(x) + b"\n" for x in lines))
    out = replay.run_micropython(str(path), check=False)
    mp = [json.loads(x) for x in out.splitlines()]
    assert error_lines(mp) == error_lines(run_cpython(lines))


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_time_far_in_the_future_is_refused_and_a_year_is_bounded_work(tmp_path, runtime):
    path = tmp_path / "far.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [
        {"t": 0, "keys": "1234A"},
        {"t": 0, "until": 10 ** 15},
        {"t": 10 ** 30, "keys": "1"},
        {"t": 0, "until": MAX_T},
        {"t": MAX_T, "keys": "1234C"},
    ]) + "\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tools.replay", str(path), "--runtime", runtime],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = [json.loads(x) for x in done.stdout.splitlines()]
    assert error_lines(out) == [2, 3]
    assert out[-1]["t"] == MAX_T and any(o.get("state") == "disarmed" for o in out)
    print("\n%s: a year of scenario time in %.1f s" % (runtime, time.monotonic() - started))


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_deep_nesting_and_bad_bytes_are_numbered_errors(tmp_path, runtime):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b"\n".join([b'{"t": 0, "keys": "1234A"}', b"[" * 100000 + b"]" * 100000,
                                 b'{"a":' * 30000 + b"1" + b"}" * 30000, b"\xff\xfe{}",
                                 b'{"t": 100, "keys": "1234C"}']) + b"\n")
    done = subprocess.run([sys.executable, "-m", "tools.replay", str(path), "--runtime", runtime],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = [json.loads(x) for x in done.stdout.splitlines()]
    assert error_lines(out) == [2, 3, 4]
    assert out[-1]["t"] == 100 and any(o.get("state") == "disarmed" for o in out)
