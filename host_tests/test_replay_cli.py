"""`python -m tools.replay` is a contract others test against: check it as they would."""
import json
import os
import subprocess
import sys

import pytest

from tools import paths

pytestmark = pytest.mark.fast

SCENARIO = os.path.join(paths.ROOT, "host_tests", "scenarios", "away_entry_alarm.jsonl")


def replay(*args, stdin=None):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return subprocess.run([sys.executable, "-m", "tools.replay", *args], input=stdin,
                          capture_output=True, text=True, cwd=paths.ROOT, env=env, timeout=120)


def lines(out):
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("runtime", [None, "micropython", "cpython"])
def test_replays_a_file(runtime):
    args = [SCENARIO] + (["--runtime", runtime] if runtime else [])
    done = replay(*args)
    assert done.returncode == 0, done.stderr
    out = lines(done.stdout)
    assert all(list(o)[0] == "t" for o in out)          # "t" leads every line
    assert [o["t"] for o in out] == sorted(o["t"] for o in out)
    codes = [o["signal"]["code"] for o in out if "signal" in o]
    assert codes == ["R401", "E134", "E406", "E401"]
    assert {"t": 330000, "siren": "steady"} in out


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_reads_standard_input_and_names_bad_lines(runtime):
    text = '{"t": 0, "keys": "1234A"}\nnot json\n{"t": 10, "zone": "nowhere", "event": "open"}\n'
    done = replay("-", "--runtime", runtime, stdin=text)
    assert done.returncode == 0, done.stderr
    errors = [o["error"] for o in lines(done.stdout) if "error" in o]
    assert errors[0].startswith("line 2:")
    assert errors[1].startswith("line 3:") and "nowhere" in errors[1]


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_a_wrong_config_is_refused_naming_the_field(runtime):
    text = '{"config": {"zones": [{"number": 1, "name": "x", "type": "laser"}]}}\n' \
           '{"t": 0, "keys": "1234A"}\n'
    done = replay("-", "--runtime", runtime, stdin=text)
    assert done.returncode == 2
    out = lines(done.stdout)
    assert out[0]["field"] == "zones[0].type" and "laser" in out[0]["error"]
    assert len(out) == 1


def test_hashcode_makes_a_hash_the_panel_accepts():
    done = subprocess.run([sys.executable, "-m", "tools.hashcode", "4321"], capture_output=True,
                          text=True, cwd=paths.ROOT)
    stored = done.stdout.strip()
    assert stored.startswith("s256$") and "4321" not in stored
    text = json.dumps({"config": {"users": [{"number": 1, "name": "a", "code_hash": stored}]}}) \
        + '\n{"t": 0, "keys": "4321B"}\n'
    out = lines(replay("-", "--runtime", "micropython", stdin=text).stdout)
    assert {"t": 0, "state": "arming"} in out
    bad = subprocess.run([sys.executable, "-m", "tools.hashcode", "12"], capture_output=True,
                         text=True, cwd=paths.ROOT)
    assert bad.returncode == 2
