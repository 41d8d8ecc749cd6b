"""The aioble shim behaves like micropython-lib's aioble where the firmware
depends on it (queue order, one result per device), and the firmware's scanner
copes with that. Runs shim_scan.py under the host micropython with the shims."""
import json
import os
import subprocess

import pytest

from tools import paths
from tools.hubsim import SHIMS

pytestmark = pytest.mark.fast

HERE = os.path.dirname(os.path.abspath(__file__))
_RUN = """
import json, shim_scan
for name in sorted(dir(shim_scan)):
    if name.startswith("test_"):
        try:
            getattr(shim_scan, name)()
            print(json.dumps([name, ""]))
        except Exception as e:
            print(json.dumps([name, "%s: %s" % (type(e).__name__, e)]))
"""
NAMES = sorted(line.split("(")[0][4:] for line in open(os.path.join(HERE, "shim_scan.py"))
               if line.startswith("def test_"))


@pytest.fixture(scope="module")
def results():
    env = paths.micropython_env(HERE, SHIMS)
    env.pop("SIM_PORT", None)       # no simulation socket: the tests feed _sim directly
    done = subprocess.run([paths.venv_tool("micropython"), "-c", _RUN], env=env,
                          capture_output=True, text=True, timeout=120)
    out = {}
    for line in done.stdout.splitlines():
        if line.startswith("["):
            name, problem = json.loads(line)
            out[name] = problem
    out["__output__"] = done.stdout + done.stderr
    return out


@pytest.mark.parametrize("name", NAMES)
def test_under_micropython(results, name):
    assert name in results, results["__output__"]
    assert results[name] == "", results[name]
