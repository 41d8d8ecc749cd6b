"""The deploy path, against the host micropython behind a pseudo-terminal (socat)
standing in for a board; and the board commands failing fast without one."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tools import debian, paths
from tools.hubsim import SHIMS, HOST_LIB


def make(*args):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=paths.ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def fake_board(tmp_path):
    """A tty with the host micropython's REPL on it; its cwd is the board's flash."""
    debian.ensure("socat")
    flash = tmp_path / "flash"
    flash.mkdir()
    tty = str(tmp_path / "tty")
    env = paths.micropython_env(SHIMS)   # the shims stand in for aioble on the "board"
    proc = subprocess.Popen(
        ["socat", "PTY,link=%s,raw,echo=0" % tty,
         "EXEC:%s -i,pty,stderr,setsid,ctty,raw,echo=0" % paths.venv_tool("micropython")],
        cwd=str(flash), env=env, start_new_session=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(tty):
        assert time.monotonic() < deadline, "socat made no tty"
        time.sleep(0.05)
    yield tty, flash
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(5)


def test_deploy_copies_a_runnable_hub_with_hashed_codes(fake_board, tmp_path):
    tty, flash = fake_board
    cfg_path = tmp_path / "config.json"
    shutil.copy(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json"), cfg_path)
    done = subprocess.run([sys.executable, "-m", "tools.deploy", "deploy", "--port", tty,
                           "--board", "esp32_devkitc", "--config", str(cfg_path)],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (flash / "main.py").exists() and (flash / "hub" / "hub.mpy").exists()
    assert not (flash / "hub" / "hub.py").exists()
    assert json.loads((flash / "board.json").read_text())["chip"] == "esp32"
    cfg = json.loads((flash / "config.json").read_text())
    assert all("code" not in u and u["code_hash"].startswith("s256$") for u in cfg["users"])
    # What was copied boots: the board's files alone, with the shims for hardware.
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join([str(flash), SHIMS, HOST_LIB, ".frozen"])
    run = subprocess.Popen([paths.venv_tool("micropython"), "-c", "import main"], cwd=str(flash),
                           env=env, stdout=subprocess.PIPE, text=True)
    try:
        for line in run.stdout:
            if '"boot"' in line:
                assert json.loads(line)["boot"] == "demo-hub"
                break
        else:
            raise AssertionError("the deployed hub did not boot")
    finally:
        run.kill()
        run.wait()


def test_deploy_refuses_a_bad_config_naming_the_field(fake_board, tmp_path):
    tty, flash = fake_board
    cfg = json.load(open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")))
    cfg["zones"][1]["key"] = "abc"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cfg))
    done = subprocess.run([sys.executable, "-m", "tools.deploy", "deploy", "--port", tty,
                           "--board", "esp32_devkitc", "--config", str(bad)],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "zones[1].key" in done.stderr
    assert not (flash / "main.py").exists()


@pytest.mark.parametrize("target", ["flash", "deploy", "console"])
def test_without_a_board_the_commands_fail_fast(target):
    t0 = time.monotonic()
    done = make(target, "PORT=/dev/ttyUSB99", "BOARD=esp32_devkitc", "FIRMWARE=none.bin")
    assert done.returncode != 0
    assert "no board at /dev/ttyUSB99" in done.stderr
    assert time.monotonic() - t0 < 30
