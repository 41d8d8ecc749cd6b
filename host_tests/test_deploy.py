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
    yield from _fake_board(tmp_path)


def _fake_board(tmp_path, heapsize=None):
    """heapsize: the GC heap the stand-in's micropython runs in (-X heapsize=),
    which its gc then reports to deploy's check, as a board's does."""
    debian.ensure("socat")
    flash = tmp_path / "flash"
    flash.mkdir()
    tty = str(tmp_path / "tty")
    env = paths.micropython_env(SHIMS)   # the shims stand in for aioble on the "board"
    proc = subprocess.Popen(
        ["socat", "PTY,link=%s,raw,echo=0" % tty,
         "EXEC:%s%s -i,pty,stderr,setsid,ctty,raw,echo=0"
         % (paths.venv_tool("micropython"), " -X heapsize=%d" % heapsize if heapsize else "")],
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
    # An MQTT-only hub: neither the DC-09 files nor the software AES.
    assert not (flash / "uplink" / "dc09_cbc.mpy").exists()
    assert not (flash / "crypto" / "aes_soft.mpy").exists()
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


def _boots(flash):
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join([str(flash), SHIMS, HOST_LIB, ".frozen"])
    run = subprocess.Popen([paths.venv_tool("micropython"), "-c", "import main"], cwd=str(flash),
                           env=env, stdout=subprocess.PIPE, text=True)
    try:
        for line in run.stdout:
            if '"boot"' in line:
                return json.loads(line)["boot"]
        return None
    finally:
        run.kill()
        run.wait()


@pytest.mark.parametrize("key", ["0123456789ABCDEF", "0123456789ABCDEF01234567"],
                         ids=["aes128", "aes192"])
def test_deploy_copies_the_software_aes_only_for_a_24_character_dc09_key(fake_board, tmp_path,
                                                                          key):
    # cryptolib has no AES-192: a hub given a 24-character key gets
    # crypto/aes_soft.mpy; one with a 16- (or 32-) character key does not.
    tty, flash = fake_board
    cfg = json.load(open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")))
    cfg["dc09"] = {"host": "127.0.0.1", "port": 9, "account": "12AB", "key": key}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    done = subprocess.run([sys.executable, "-m", "tools.deploy", "deploy", "--port", tty,
                           "--board", "esp32_devkitc", "--config", str(path)],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (flash / "uplink" / "dc09_cbc.mpy").exists()
    assert (flash / "crypto" / "aes_soft.mpy").exists() is (len(key) == 24)
    assert json.loads((flash / "config.json").read_text())["dc09"]["key"] == key
    assert _boots(flash) == "demo-hub"


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


def _deploy(tty, cfg_path):
    return subprocess.run([sys.executable, "-m", "tools.deploy", "deploy", "--port", tty,
                           "--board", "esp32_devkitc", "--config", str(cfg_path)],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("dc09", [False, True], ids=["mqtt", "mqtt+dc09"])
def test_deploy_refuses_a_board_whose_heap_cannot_hold_the_image(tmp_path, dc09):
    # 160 KB: what no ESP32 without PSRAM exceeds, under what the .mpy image
    # needs on 32 bits (docs/board.md). Nothing is built or copied.
    gen = _fake_board(tmp_path, heapsize=160 * 1024)
    tty, flash = next(gen)
    try:
        cfg = json.load(open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")))
        if dc09:
            cfg["dc09"] = {"host": "127.0.0.1", "port": 9, "account": "12AB",
                           "key": "0123456789ABCDEF"}
        path = tmp_path / "config.json"
        path.write_text(json.dumps(cfg))
        done = _deploy(tty, path)
        _one_line_refusal(done, "GC heap", "no PSRAM", "boards/manifest_hub.py", "PSRAM board",
                          "MQTT + DC-09" if dc09 else "MQTT")
        assert "Traceback" not in done.stdout, done.stdout
        assert os.listdir(str(flash)) == []
    finally:
        next(gen, None)


@pytest.mark.parametrize("kind", ["host", "plain", "frozen"])
def test_the_probe_tells_a_firmware_with_the_hub_frozen_in(kind):
    # deploy's probe, run by the interpreters themselves: the 32-bit one with the
    # hub frozen in (boards/manifest_hub.py, as `make firmware` freezes it) says so.
    from tools import deploy, mp32
    binary = paths.venv_tool("micropython") if kind == "host" else mp32.built(kind)
    if binary is None:
        pytest.skip("no 32-bit %s build (MICROPY_SRC=... python -m tools.mp32 build)" % kind)
    done = subprocess.run([binary, "-X", "heapsize=128k", "-c", deploy._PROBE], cwd="/",
                          capture_output=True, text=True, timeout=30)
    words = done.stdout.split()
    assert words[0] == "heap" and words[3] == ("1" if kind == "frozen" else "0"), done.stdout


def test_deploy_onto_the_frozen_image_copies_the_config_alone(tmp_path, monkeypatch, capsys):
    # A board flashed with `make firmware`'s image, at a heap the .mpy image
    # could not run in: deploy copies board.json and config.json, and removes hub
    # code an earlier .mpy deploy left, which would shadow the frozen modules
    # ('' comes first on the board's sys.path). The stand-in board is the host
    # micropython (the 32-bit build has no raw REPL for mpremote), so its probe's
    # answer is the frozen image's (the test above checks the probe itself).
    from tools import deploy
    gen = _fake_board(tmp_path, heapsize=128 * 1024)
    tty, flash = next(gen)
    try:
        (flash / "hub").mkdir()
        (flash / "hub" / "hub.mpy").write_bytes(b"M\x06stale")
        (flash / "main.py").write_text("raise SystemExit('the stale main.py ran')\n")
        (flash / "notes.txt").write_text("the owner's own file")
        real = deploy.board_memory
        monkeypatch.setattr(deploy, "board_memory", lambda port: real(port)[:2] + (True,))
        path = tmp_path / "config.json"
        shutil.copy(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json"), path)
        deploy.deploy(tty, "esp32_devkitc", str(path))
        assert "frozen in the firmware" in capsys.readouterr().out
        assert sorted(os.listdir(str(flash))) == ["board.json", "config.json", "notes.txt"]
        cfg = json.loads((flash / "config.json").read_text())
        assert all("code" not in u and u["code_hash"].startswith("s256$") for u in cfg["users"])
    finally:
        next(gen, None)
    # What the board then runs: the frozen hub on the copied config.
    from tools import mp32
    frozen = mp32.built("frozen")
    if frozen is None:
        return
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join(["", SHIMS, ".frozen"])
    run = subprocess.Popen([frozen, "-X", "heapsize=128k", "-c", "import main"],
                           cwd=str(flash), env=env, stdout=subprocess.PIPE, text=True)
    try:
        for line in run.stdout:
            if '"boot"' in line:
                assert json.loads(line)["boot"] == "demo-hub"
                break
        else:
            raise AssertionError("the frozen hub did not boot on the deployed config")
    finally:
        run.kill()
        run.wait()


def test_deploy_passes_a_board_with_the_heap_the_image_needs(tmp_path):
    gen = _fake_board(tmp_path, heapsize=256 * 1024)
    tty, flash = next(gen)
    try:
        path = tmp_path / "config.json"
        shutil.copy(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json"), path)
        done = _deploy(tty, path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (flash / "hub" / "hub.mpy").exists() and (flash / "config.json").exists()
    finally:
        next(gen, None)


@pytest.mark.parametrize("target", ["flash", "deploy", "console"])
def test_without_a_board_the_commands_fail_fast(target):
    t0 = time.monotonic()
    done = make(target, "PORT=/dev/ttyUSB99", "BOARD=esp32_devkitc", "FIRMWARE=none.bin")
    assert done.returncode != 0
    assert "no board at /dev/ttyUSB99" in done.stderr
    assert time.monotonic() - t0 < 30


# ---- make check: the config (and the board's pins) without a board ----

def _check(*args):
    return subprocess.run([sys.executable, "-m", "tools.deploy", "check", *args],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=60)


def _demo_config(tmp_path, change=None):
    with open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")) as f:
        cfg = json.load(f)
    if change:
        change(cfg)
    path = tmp_path / "my-config.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def _one_line_refusal(done, *names):
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    for name in names:
        assert name in done.stderr, (name, done.stderr)


def test_check_passes_a_good_config_with_or_without_a_board(tmp_path):
    path = _demo_config(tmp_path)
    before = open(path).read()
    for board in ([], ["--board", "esp32_devkitc"]):
        done = _check("--config", path, *board)
        assert done.returncode == 0, done.stderr
        assert "good" in done.stdout and done.stderr == ""
    assert open(path).read() == before          # codes are hashed on the board, not here


def test_check_names_the_bad_field(tmp_path):
    def laser(cfg):
        cfg["zones"][2]["type"] = "laser"
    _one_line_refusal(_check("--config", _demo_config(tmp_path, laser)),
                      "my-config.json", "zones[2].type", "laser")


def test_check_against_a_board_names_a_pin_it_cannot_use(tmp_path):
    def wired_on_34(cfg):
        cfg["zones"].append({"number": 9, "name": "Garage", "type": "contact",
                             "wired": True, "pin": 34})
    path = _demo_config(tmp_path, wired_on_34)
    _one_line_refusal(_check("--config", path, "--board", "esp32_devkitc"),
                      "zones[8].pin", "34")


def test_check_names_a_broken_board_file_and_an_unknown_board(tmp_path):
    with open(os.path.join(paths.ROOT, "boards", "esp32_devkitc.json")) as f:
        board = json.load(f)
    board["keypad"]["rows"][0] = 7                  # a flash pin
    own = tmp_path / "my-board.json"
    own.write_text(json.dumps(board))
    _one_line_refusal(_check("--config", _demo_config(tmp_path), "--board", str(own)),
                      "my-board.json", "board.keypad.rows[0]")
    _one_line_refusal(_check("--config", _demo_config(tmp_path), "--board", "esp99"),
                      "esp99", "esp32_devkitc")
    _one_line_refusal(_check("--config", str(tmp_path / "none.json")), "none.json")


def test_make_check_runs_the_check():
    done = make("-n", "check", "CONFIG=my-config.json", "BOARD=esp32_devkitc")
    assert "tools.deploy check --config \"my-config.json\" --board \"esp32_devkitc\"" \
        in done.stdout
