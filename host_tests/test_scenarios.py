"""Every scenario in host_tests/scenarios replays to exactly its expected output,
under CPython and under the real micropython, and again with the panel's tick
counter starting just before the ESP32's 2**30 ms wrap."""
import glob
import io
import json
import os

import pytest

from tools import replay

pytestmark = pytest.mark.fast

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")
NAMES = sorted(os.path.basename(p)[:-6] for p in glob.glob(os.path.join(HERE, "*.jsonl"))
               if not p.endswith(".expected.jsonl"))
WRAP = (1 << 30) - 7000   # the counter wraps 7 s into every scenario


def expected(name):
    with open(os.path.join(HERE, name + ".expected.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def run(name, runtime, tick0=0):
    path = os.path.join(HERE, name + ".jsonl")
    if runtime == "micropython":
        text = replay.run_micropython(path, tick0)
    else:
        buf = io.StringIO()
        with open(path) as f:
            replay.run_cpython(f, buf.write, tick0)
        text = buf.getvalue()
    return [json.loads(line) for line in text.splitlines()]


def test_there_are_scenarios():
    assert len(NAMES) >= 25


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
@pytest.mark.parametrize("name", NAMES)
def test_scenario(name, runtime):
    assert run(name, runtime) == expected(name)


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
@pytest.mark.parametrize("name", NAMES)
def test_scenario_across_tick_wrap(name, runtime):
    assert run(name, runtime, WRAP) == expected(name)
