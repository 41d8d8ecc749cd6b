"""micropython-lib's real aioble, run on the bluetooth stand-in
(tools/shims/bluetooth.py), against the aioble stand-in (tools/shims/aioble)
that CI runs the hub on: same adverts in, same results and sensor events out
(aioble_parity.py), and the bluetooth stand-in keeps the board's API
(bluetooth_standin.py). The real aioble needs a micropython-lib tree
(tools/aioble_real.py); without one those comparisons skip and say why."""
import json
import os
import subprocess

import pytest

from tools import aioble_real, paths

pytestmark = pytest.mark.fast

HERE = os.path.dirname(os.path.abspath(__file__))
REAL, WHY = aioble_real.source()


def _names(module, prefix):
    return sorted(line.split("(")[0][len("def " + prefix):]
                  for line in open(os.path.join(HERE, module + ".py"))
                  if line.startswith("def " + prefix))


CASES = _names("aioble_parity", "case_")
STANDIN = _names("bluetooth_standin", "test_")


def _run(code, real=None):
    env = paths.micropython_env(HERE, *aioble_real.micropython_path(real))
    env.pop("SIM_PORT", None)       # no simulation socket: the cases feed _sim directly
    done = subprocess.run([paths.venv_tool("micropython"), "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)
    out = {}
    for line in done.stdout.splitlines():
        if line.startswith("["):
            row = json.loads(line)
            out[row[0]] = row[1:]
    out["__output__"] = done.stdout + done.stderr
    return out


_PARITY = "import aioble_parity as m; m.main(%r)" % (CASES,)


@pytest.fixture(scope="module")
def stand_in():
    return _run(_PARITY)


@pytest.fixture(scope="module")
def real():
    if REAL is None:
        pytest.skip("the real aioble is not at hand, so CI runs the hub on tools/shims/aioble: "
                    + WHY)
    return _run(_PARITY, REAL)


@pytest.mark.parametrize("case", CASES)
def test_real_aioble_on_the_bluetooth_stand_in_matches_the_aioble_stand_in(stand_in, real, case):
    assert case in real, real["__output__"]
    assert real[case][1] == "", real[case][1]
    assert stand_in[case][1] == "", stand_in[case][1]
    assert real[case][0] == stand_in[case][0]


def test_the_real_aioble_is_what_runs(real):
    out = _run("import aioble; print(aioble.__file__)", REAL)["__output__"]
    assert out.startswith(os.path.join(REAL, "aioble")), out


def test_aioble_stand_in_cases_hold(stand_in):
    for case in CASES:
        assert case in stand_in, stand_in["__output__"]
        assert stand_in[case][1] == "", (case, stand_in[case][1])
    n, order = stand_in["faster_than_consumed"][0]
    assert n == 61 and order[0] == "0101"               # the first advert, before the pile
    assert order[1:31] == ["%02x%02x" % (i % 30, i) for i in range(59, 29, -1)]
    delivered, events, replayed, scans, errors = stand_in["scanner_to_sensor_events"][0]
    # The identical repeat reaches the hub (the Scanner forgets aioble's
    # result), whose backlog keeps one copy.
    assert len(delivered) == 8
    assert events == ["open", "close"] * 3 and replayed == 0 and errors == 0
    # aioble holds no result per passer-by (the real one too: the parity test).
    assert stand_in["busy_street_holds_no_result_per_address"][0] == [True, 310, True, 0]


@pytest.fixture(scope="module")
def standin_results():
    return _run("import json, bluetooth_standin as m\n"
                "for n in %r:\n"
                "    try:\n"
                "        getattr(m, 'test_' + n)(); print(json.dumps([n, '']))\n"
                "    except Exception as e:\n"
                "        print(json.dumps([n, '%%s: %%s' %% (type(e).__name__, e)]))\n" % (STANDIN,))


@pytest.mark.parametrize("name", STANDIN)
def test_bluetooth_stand_in_keeps_the_board_api(standin_results, name):
    assert name in standin_results, standin_results["__output__"]
    assert standin_results[name][0] == "", standin_results[name][0]


def test_the_tree_is_found_only_at_the_pinned_version(tmp_path):
    assert aioble_real.source({})[0] is None
    assert "MICROPYLIB_SRC" in aioble_real.source({})[1]
    here = tmp_path / "micropython" / "bluetooth" / "aioble"
    (here / "aioble").mkdir(parents=True)
    (here / "aioble" / "central.py").write_text("")
    (here / "manifest.py").write_text('metadata(version="0.5.0")\n')
    found, why = aioble_real.source({"MICROPYLIB_SRC": str(tmp_path)})
    assert found is None and "0.5.0" in why and aioble_real.VERSION in why
    (here / "manifest.py").write_text('metadata(version="%s")\n' % aioble_real.VERSION)
    assert aioble_real.source({"MICROPYLIB_SRC": str(tmp_path)}) == (str(here), None)
    found, why = aioble_real.source({"MICROPY_SRC": str(tmp_path / "nothing")})
    assert found is None and "no aioble" in why
