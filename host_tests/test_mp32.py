"""The hub on a 32-bit MicroPython, the ESP32's word size (issue 21, tools/mp32.py).

- The time shim's ticks are the board's (30 bits, ticks_add/ticks_diff with
  period 2**30) from a start near the wrap, under the host micropython (64-bit)
  and under the 32-bit builds where they are built.
- Where MICROPY_SRC names a MicroPython v1.28.0 tree and the 32-bit unix port
  builds, the whole firmware runs on the interpreter with the hub frozen in
  (boards/manifest_hub.py): boot, arm, alarm, restart, outbox and link, and a
  run across the tick wrap, the frozen bytes being the ones tested. Without a
  tree (CI) those tests are skipped, saying why.
"""
import os
import subprocess

import pytest

from tools import mp32, paths
from tools import hubsim
from tools.hubsim import SHIMS

import test_hub_process as process
import test_hub_mqtt as mqtt_tests
from test_hub_process import hub  # noqa: F401 (fixture)
from test_hub_mqtt import rig  # noqa: F401 (fixture)

# The 32-bit builds live in build/mp32: the tests that may build share build/'s worker.
pytestmark = pytest.mark.xdist_group("build")

MASK = (1 << 30) - 1

# Runs under each interpreter with the shims first on the path, SIM_TICKS_START set.
TICKS_BODY = r"""
import time, sys
MASK = (1 << 30) - 1
t = time.ticks_ms()
assert 0 <= t <= MASK, t
for d in (0, 1, -1, 5000, -5000, (1 << 29) - 1, -(1 << 29) + 1):
    u = time.ticks_add(t, d)
    assert 0 <= u <= MASK, (t, d, u)
    assert time.ticks_diff(u, t) == d, (t, d, u)
    assert time.ticks_diff(t, u) == -d, (t, d, u)
for bad in (1 << 29, -(1 << 29), 1 << 30):
    try:
        time.ticks_add(t, bad)
        raise AssertionError("no overflow for %d" % bad)
    except OverflowError:
        pass
assert time.ticks_add(MASK, 1) == 0 and time.ticks_add(0, -1) == MASK
assert time.ticks_diff(0, MASK) == 1 and time.ticks_diff(MASK, 0) == -1
time.sleep_ms(30)
e = time.ticks_diff(time.ticks_ms(), t)
assert 30 <= e < 2000, e
import asyncio
async def nap():
    a = time.ticks_ms()
    await asyncio.sleep_ms(60)
    return time.ticks_diff(time.ticks_ms(), a)
e = asyncio.run(nap())
assert 60 <= e < 2000, e
print("ok", t)
"""


def _interpreters():
    found = [pytest.param(paths.venv_tool("micropython"), id="host64")]
    for kind in mp32.KINDS:
        b = mp32.built(kind)
        found.append(pytest.param(b, id="mp32-" + kind, marks=pytest.mark.skipif(
            b is None, reason="no 32-bit %s build in build/mp32 (python -m tools.mp32 build, "
            "with MICROPY_SRC)" % kind)))
    return found


@pytest.mark.parametrize("start", [100000, (1 << 30) - 300, (1 << 29) + 5, MASK])
@pytest.mark.parametrize("micropython", _interpreters())
def test_shim_ticks_are_the_boards_from_a_start_near_the_wrap(micropython, start, tmp_path):
    env = paths.micropython_env(SHIMS)
    env["MICROPYPATH"] = ":".join([SHIMS, ".frozen"])
    env["SIM_TICKS_START"] = str(start)
    done = subprocess.run([micropython, "-c", TICKS_BODY], capture_output=True, text=True,
                          env=env, timeout=60, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    t = int(done.stdout.split()[-1])
    assert (t - start) & MASK < 1000          # starts where it was told, wrapped


def test_without_a_tree_the_bench_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MICROPY_SRC", raising=False)
    assert mp32.bench_section() is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("32-bit figures skipped: MICROPY_SRC is not set")
    assert "gcc-multilib" in out and "v1.28.0" in out
    monkeypatch.setenv("MICROPY_SRC", str(tmp_path))
    src, why = mp32.source()
    assert src is None and "not a usable tree" in why and "ports/unix/Makefile" in why


@pytest.fixture(scope="module")
def frozen32():
    """The 32-bit interpreter with the hub frozen in, built (incrementally) from
    MICROPY_SRC; skips the test, saying why, where there is none."""
    src, why = mp32.source()
    if src is None:
        pytest.skip("no 32-bit MicroPython to test on: " + why)
    try:
        return mp32.build(src, kinds=("frozen",))["frozen"]
    except (RuntimeError, OSError) as e:
        pytest.skip("the 32-bit frozen interpreter did not build: %s" % e)


@pytest.fixture
def on_frozen32(frozen32, monkeypatch, tmp_path):
    """HubSim runs the frozen 32-bit interpreter with nothing of the hub on the
    path but the shims: the firmware and umqtt come from the frozen image."""
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    real = paths.venv_tool
    monkeypatch.setattr(paths, "venv_tool",
                        lambda name: frozen32 if name == "micropython" else real(name))
    monkeypatch.setattr(paths, "FIRMWARE", str(empty))
    monkeypatch.setattr(hubsim, "HOST_LIB", str(empty))
    return frozen32


def test_the_hub_and_umqtt_are_frozen_in(frozen32, tmp_path):
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join([SHIMS, ".frozen"])
    done = subprocess.run([frozen32, "-c", "import sys, asyncio, hub.boot, umqtt.simple, uplink.link;"
                           "print(sys.maxsize, hub.boot.__file__, umqtt.simple.__file__)"],
                          capture_output=True, text=True, env=env, timeout=60, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.split()
    assert out[0] == str((1 << 31) - 1)        # a 32-bit build
    # A frozen module's __file__ is its path in the image; the path holds only the shims.
    assert out[1:] == ["hub/boot.py", "umqtt/simple.py"], out


def test_boot_keys_arm_and_a_wired_zone_sounds_the_siren(on_frozen32, hub):  # noqa: F811
    process.test_keys_arm_and_a_wired_zone_sounds_the_siren(hub)


def test_an_encrypted_door_advert_starts_the_entry_delay(on_frozen32, hub):  # noqa: F811
    process.test_an_encrypted_door_advert_starts_the_entry_delay(hub)


def test_a_restart_resumes_armed_and_reports_it(on_frozen32, hub, tmp_path):  # noqa: F811
    process.test_a_restart_resumes_armed_and_reports_it(hub, tmp_path)


def test_arm_and_alarm_across_the_tick_wrap(on_frozen32, hub):  # noqa: F811
    # The counter wraps 10 hub-seconds after power-on, inside the exit delay.
    sim = hub(speed=20, ticks_start=(1 << 30) - 10000)
    assert sim.proc.args[0] == on_frozen32           # the hub runs on the frozen 32-bit build
    assert process.boot(sim)["boot"] == "demo-hub"
    sim.keys("1234A")
    sim.wait_for(lambda o: o.get("state") == "arming")
    sim.wait_for(lambda o: o.get("state") in ("armed_home", "armed_away"), timeout=20)
    sim.level(18, 1)
    sim.wait_for(lambda o: o.get("state") == "triggered")
    sim.wait_pin(sim.siren_pin, 1)
    sim.keys("1234C")
    sim.wait_for(lambda o: o.get("state") == "disarmed")
    sim.wait_pin(sim.siren_pin, 0)


def test_signals_are_signed_and_acks_clear_the_outbox(on_frozen32, rig):  # noqa: F811
    mqtt_tests.test_signals_are_signed_and_acks_clear_the_outbox(rig)


@pytest.fixture(scope="module")
def budget_run(frozen32):
    """The bench body on the frozen 32-bit image, both report paths, run once in
    the budget heap less mbedtls's peak (measured against a local mosquitto
    where the tree has micropython-lib's ssl), with its working heap."""
    from tools import bench
    src, _ = mp32.source()
    peak = mp32.tls_peak(frozen32) if mp32.has_ssl(src) else mp32.TLS_PEAK_MEASURED
    heap = mp32.BUDGET_HEAP - peak
    fig = bench.firmware_measure(frozen32, True, ("mqtt+dc09",), (), fits=heap)["mqtt+dc09"]
    return heap, peak, fig


def test_frozen_both_paths_run_in_the_boards_budget_heap(budget_run):
    # 32 sensors, 200 queued signals, 400 loop passes and the link's TLS peak
    # in 80 KB of GC heap: what an ESP32 without PSRAM gives, with Wi-Fi and BLE.
    heap, peak, fig = budget_run
    assert 0 < peak < 16 * 1024, peak
    assert fig["fits"], ("the bench run does not complete in %d B (%d B budget - %d B of TLS)"
                         % (heap, mp32.BUDGET_HEAP, peak))


def test_frozen_both_paths_working_heap_is_within_budget(budget_run):
    # The queued signals wait on flash (uplink/outbox.py): RAM holds where.
    _, _, fig = budget_run
    assert 0 < fig["working"] <= mp32.BUDGET_WORKING, fig


@pytest.fixture(scope="module")
def aioble_budget_run(frozen32, budget_run):
    """The same bench body with the adverts through the real aioble's scan
    (aioble-central frozen in, as boards/manifest_esp32.py does, on the host's
    bluetooth stand-in), where the tree has micropython-lib's aioble."""
    from tools import bench
    src, _ = mp32.source()
    if not mp32.has_aioble(src):
        pytest.skip("MICROPY_SRC=%s has no micropython-lib aioble %s to freeze"
                    % (src, "0.6.1"))
    heap, peak, _ = budget_run
    fig = bench.firmware_measure(frozen32, True, ("mqtt+dc09",), (), fits=heap,
                                 scan=True)["mqtt+dc09"]
    return heap, peak, fig


def _stand_ins_take(frozen32, tmp_path, modules):
    # What importing the host stand-ins for the board's C modules takes, alone.
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join([".frozen", SHIMS])
    # asyncio is the hub's own (the bluetooth stand-in imports it too).
    code = ("import gc, asyncio\ngc.collect()\na = gc.mem_alloc()\n" + "".join(
        "import %s\n" % m for m in modules) + "gc.collect()\nprint(gc.mem_alloc() - a)\n")
    done = subprocess.run([frozen32, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    return int(done.stdout)


def test_the_figures_leave_out_only_the_stand_ins_for_the_boards_c_modules(
        frozen32, aioble_budget_run, budget_run, tmp_path):
    # The board's machine, time, network, esp32 and bluetooth are C: what their
    # host stand-ins' modules take is left out, and nothing of the hub with it.
    c_modules = ["machine", "time", "network", "esp32"]
    _, _, fig = budget_run
    alone = _stand_ins_take(frozen32, tmp_path, c_modules)
    assert 2048 < alone < 12 * 1024, alone
    assert abs(fig["standin"] - alone) <= 256, (fig, alone)
    _, _, fig = aioble_budget_run
    alone = _stand_ins_take(frozen32, tmp_path, c_modules + ["bluetooth"])
    assert abs(fig["standin"] - alone) <= 256, (fig, alone)


def test_the_bench_scans_through_the_frozen_real_aioble(frozen32, tmp_path):
    src, _ = mp32.source()
    if not mp32.has_aioble(src):
        pytest.skip("MICROPY_SRC=%s has no micropython-lib aioble to freeze" % src)
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join([".frozen", SHIMS])
    done = subprocess.run([frozen32, "-c", "import aioble, aioble.central, bluetooth\n"
                           "try:\n import aioble.peripheral\nexcept ImportError:\n print('central only')\n"
                           "print(aioble.__file__, aioble.central.__file__, bluetooth.__file__)"],
                          capture_output=True, text=True, env=env, timeout=60, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    # aioble-central as the board's manifest freezes it; the stand-in is not aioble.
    assert done.stdout.split() == ["central", "only", "aioble/__init__.py", "aioble/central.py",
                                   "bluetooth.py"], done.stdout


def test_with_aioble_frozen_both_paths_run_in_the_boards_budget_heap(aioble_budget_run):
    heap, peak, fig = aioble_budget_run
    assert fig["fits"], ("the bench run through aioble does not complete in %d B (%d B budget"
                         " - %d B of TLS)" % (heap, mp32.BUDGET_HEAP, peak))


def test_with_aioble_frozen_both_paths_working_heap_is_within_budget(aioble_budget_run):
    _, _, fig = aioble_budget_run
    assert 0 < fig["working"] <= mp32.BUDGET_WORKING, fig


SENSORS_HEAP = """
import gc
from radio import sensors, bthome_encode
gc.collect()
a = gc.mem_alloc()
s = sensors.Sensors()
macs = ['3C:2E:F5:00:01:%02X' % n for n in range(1, 33)]
keys = [bytes(range(16)) for m in macs]
for n, m in enumerate(macs):
    s.add(m, 'zone_%02d' % n, 'contact', keys[n])
for step in range(64):
    i = step % 32
    d = bthome_encode.encode([('packet_id', step), ('battery', 90), ('door', step & 1)],
                             macs[i], keys[i], 100 + step)
    assert s.advert(macs[i], d, -60)
del d
gc.collect()
print(gc.mem_alloc() - a - sum(len(k) + 16 for k in keys))
"""


def test_32_sensors_take_compact_rows_on_the_board(frozen32, tmp_path):
    # Each sensor is a row, not an object with an instance dict: 32 sensors,
    # each heard, in 9 KB of the board's heap without their keys (8,576 B;
    # 9,600 B as objects).
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join([SHIMS, ".frozen"])
    done = subprocess.run([frozen32, "-c", SENSORS_HEAP], capture_output=True, text=True,
                          env=env, timeout=60, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert int(done.stdout.split()[-1]) <= 9 * 1024, done.stdout
