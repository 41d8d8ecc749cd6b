"""`make firmware` / `make flash` (tools/firmware.py): the frozen hub image per board.

ESP-IDF and a board are not on this machine, so `idf.py` and `esptool` are test
doubles on PATH that record their argv (and make nothing): the tests check the
exact invocation, the board, the manifest and the image path, and each refusal's
one line. Where MICROPY_SRC names a MicroPython v1.28.0 tree, the board manifests
are also resolved by the tree's own manifest reader (tools/manifestfile.py) and
what they freeze is checked.
"""
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from tools import mp32, paths

FAKE = r"""#!%s
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\n")
if sys.argv[1:] == ["--version"]:
    print(os.environ.get("FAKE_IDF_VERSION", "ESP-IDF v5.5.1"))
    sys.exit(0)
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


@pytest.fixture
def tools_bin(tmp_path):
    """A PATH with only the system's commands plus the named test doubles."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.jsonl"

    def add(*names):
        for name in names:
            p = bin_dir / name
            p.write_text(FAKE % sys.executable)
            p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return bin_dir, log, add


def tree(tmp_path):
    """A stand-in MicroPython v1.28.0 tree with what tools/firmware.py checks for."""
    src = tmp_path / "micropython"
    (src / "py").mkdir(parents=True)
    (src / "py" / "mpconfig.h").write_text(
        "#define MICROPY_VERSION_MAJOR 1\n#define MICROPY_VERSION_MINOR 28\n"
        "#define MICROPY_VERSION_MICRO 0\n")
    for rel in ("ports/esp32/Makefile", "ports/esp32/makeimg.py",
                "lib/micropython-lib/micropython/bluetooth/aioble/manifest.py"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text("")
    return src


def run(tools_bin, *args, src=None, idf_path="/opt/esp-idf", **env_extra):
    bin_dir, log, _ = tools_bin
    env = {k: v for k, v in os.environ.items()
           if k not in ("MICROPY_SRC", "IDF_PATH", "PATH", "BOARD", "PORT", "FIRMWARE")}
    env["PATH"] = "%s:/usr/bin:/bin" % bin_dir
    env["FAKE_LOG"] = str(log)
    if src is not None:
        env["MICROPY_SRC"] = str(src)
    if idf_path is not None:
        env["IDF_PATH"] = idf_path
    env.update(env_extra)
    done = subprocess.run([sys.executable, "-m", "tools.firmware", *args], cwd=paths.ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done, calls


def one_line(done):
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_build_without_esp_idf_says_which_version_and_how(tools_bin, tmp_path):
    done, calls = run(tools_bin, "build", "--board", "esp32_devkitc", src=tree(tmp_path),
                      idf_path=None)
    line = one_line(done)
    assert line.startswith("firmware: ESP-IDF not found (no idf.py on PATH)"), line
    assert "v5.5.1" in line and "export.sh" in line and "github.com/espressif/esp-idf" in line
    assert calls == []


def test_build_with_idf_py_but_no_idf_path(tools_bin, tmp_path):
    tools_bin[2]("idf.py")
    done, calls = run(tools_bin, "build", "--board", "esp32_devkitc", src=tree(tmp_path),
                      idf_path=None)
    line = one_line(done)
    assert "IDF_PATH is not set" in line and "export.sh" in line, line
    assert calls == []


def test_build_without_a_source_tree_says_how_to_get_one(tools_bin, tmp_path):
    tools_bin[2]("idf.py")
    done, calls = run(tools_bin, "build", "--board", "esp32_devkitc")
    line = one_line(done)
    assert line.startswith("firmware: MICROPY_SRC is not set"), line
    assert "git clone -b v1.28.0 https://github.com/micropython/micropython" in line
    assert "lib/micropython-lib" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    done, calls = run(tools_bin, "build", "--board", "esp32_devkitc", src=empty)
    line = one_line(done)
    assert "MICROPY_SRC=%s is not a MicroPython v1.28.0 tree" % empty in line, line
    assert calls == []


def test_build_needs_micropython_lib_for_aioble(tools_bin, tmp_path):
    tools_bin[2]("idf.py")
    src = tree(tmp_path)
    os.remove(src / "lib/micropython-lib/micropython/bluetooth/aioble/manifest.py")
    done, _ = run(tools_bin, "build", "--board", "esp32_devkitc", src=src)
    line = one_line(done)
    assert "no lib/micropython-lib" in line and "submodule update --init lib/micropython-lib" in line, line


@pytest.mark.parametrize("board,mp_board", [("esp32_devkitc", "ESP32_GENERIC"),
                                            ("esp32s3_devkitc1", "ESP32_GENERIC_S3")])
def test_build_runs_idf_py_with_the_boards_manifest(tools_bin, tmp_path, board, mp_board):
    tools_bin[2]("idf.py")
    src = tree(tmp_path)
    out = tmp_path / "out"
    # The double makes no image: the build stops there, saying so, and claims nothing.
    done, calls = run(tools_bin, "build", "--board", board, "--out", str(out), src=src)
    line = one_line(done)
    assert line.startswith("firmware: idf.py made no "), line
    port = os.path.join(str(src), "ports", "esp32")
    manifest = os.path.join(paths.ROOT, "boards", board, "manifest.py")
    assert os.path.exists(manifest)
    assert calls == [
        ["idf.py", "--version"],
        ["idf.py", "-C", port, "-B", str(out),
         "-D", "MICROPY_BOARD=" + mp_board,
         "-D", "MICROPY_BOARD_DIR=" + os.path.join(port, "boards", mp_board),
         "-D", "MICROPY_FROZEN_MANIFEST=" + manifest, "build"]]


def test_build_says_when_idf_py_fails(tools_bin, tmp_path):
    tools_bin[2]("idf.py")
    done, calls = run(tools_bin, "build", "--board", "esp32_devkitc", "--out",
                      str(tmp_path / "out"), src=tree(tmp_path), FAKE_EXIT="2")
    line = one_line(done)
    assert line.startswith("firmware: idf.py build failed (exit 2)"), line
    assert calls[-1][-1] == "build"


def test_build_names_an_idf_the_port_does_not_support(tools_bin, tmp_path):
    tools_bin[2]("idf.py")
    done, _ = run(tools_bin, "build", "--board", "esp32_devkitc", "--out",
                  str(tmp_path / "out"), src=tree(tmp_path), FAKE_IDF_VERSION="ESP-IDF v5.1.2")
    assert "ESP-IDF v5.1.2 is not one MicroPython v1.28.0 supports" in done.stderr
    assert "v5.5.1" in done.stderr


def test_a_psram_board_takes_the_stock_spiram_firmware_not_this_image(tools_bin, tmp_path):
    tools_bin[2]("idf.py")
    done, calls = run(tools_bin, "build", "--board", "esp32_wrover", src=tree(tmp_path))
    line = one_line(done)
    assert "esp32_wrover is a PSRAM board" in line and "SPIRAM" in line, line
    assert "make deploy" in line
    assert calls == []


def test_an_unknown_board_is_named(tools_bin, tmp_path):
    done, _ = run(tools_bin, "build", "--board", "esp33", src=tree(tmp_path))
    line = one_line(done)
    assert "unknown BOARD 'esp33'" in line and "esp32_devkitc" in line, line


@pytest.fixture
def serial_port():
    """A pseudo-terminal: a character device where a board's serial port would be."""
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_flash_refuses_when_the_image_is_not_built(tools_bin, tmp_path, serial_port):
    tools_bin[2]("esptool")
    out = tmp_path / "out"
    done, calls = run(tools_bin, "flash", "--board", "esp32_devkitc", "--port", serial_port,
                      "--out", str(out))
    line = one_line(done)
    assert line == ("firmware: no image at %s: build it first with "
                    "`make firmware BOARD=esp32_devkitc` (ESP-IDF), or pass FIRMWARE=<a .bin>"
                    % os.path.join(str(out), "firmware.bin")), line
    assert calls == []


def test_flash_refuses_without_esptool_or_port(tools_bin, tmp_path, serial_port):
    out = tmp_path / "out"
    out.mkdir()
    (out / "firmware.bin").write_bytes(b"\xe9" + bytes(100))
    done, _ = run(tools_bin, "flash", "--board", "esp32_devkitc", "--port", serial_port,
                  "--out", str(out))
    line = one_line(done)
    assert line.startswith("firmware: esptool not found on PATH"), line
    assert "pip install esptool" in line
    tools_bin[2]("esptool")
    done, calls = run(tools_bin, "flash", "--board", "esp32_devkitc", "--out", str(out))
    assert one_line(done).startswith("firmware: no PORT given"), done.stderr
    done, calls = run(tools_bin, "flash", "--board", "esp32_devkitc", "--out", str(out),
                      "--port", str(tmp_path / "ttyUSB9"))
    assert one_line(done).startswith("firmware: no board at %s" % (tmp_path / "ttyUSB9"))
    assert calls == []


@pytest.mark.parametrize("board,chip,offset", [("esp32_devkitc", "esp32", "0x1000"),
                                               ("esp32s3_devkitc1", "esp32s3", "0x0")])
def test_flash_writes_the_built_image_at_the_chips_offset(tools_bin, tmp_path, serial_port,
                                                          board, chip, offset):
    tools_bin[2]("esptool")
    out = tmp_path / "out"
    out.mkdir()
    image = out / "firmware.bin"
    image.write_bytes(b"\xe9" + bytes(100))
    done, calls = run(tools_bin, "flash", "--board", board, "--port", serial_port,
                      "--out", str(out))
    assert done.returncode == 0, done.stderr
    esptool = ["esptool", "--chip", chip, "--port", serial_port]
    assert calls == [esptool + ["erase-flash"],
                     esptool + ["--baud", "460800", "write-flash", "-z", offset, str(image)]]


def test_flash_a_downloaded_firmware_for_a_psram_board(tools_bin, tmp_path, serial_port):
    tools_bin[2]("esptool")
    stock = tmp_path / "ESP32_GENERIC-SPIRAM-v1.28.0.bin"
    stock.write_bytes(b"\xe9" + bytes(100))
    done, calls = run(tools_bin, "flash", "--board", "esp32_wrover", "--port", serial_port,
                      "--firmware", str(stock))
    assert done.returncode == 0, done.stderr
    assert calls[-1][-3:] == ["-z", "0x1000", str(stock)]


def test_flash_names_the_esptool_failure(tools_bin, tmp_path, serial_port):
    tools_bin[2]("esptool")
    out = tmp_path / "out"
    out.mkdir()
    (out / "firmware.bin").write_bytes(b"\xe9" + bytes(100))
    done, calls = run(tools_bin, "flash", "--board", "esp32_devkitc", "--port", serial_port,
                      "--out", str(out), FAKE_EXIT="1")
    line = one_line(done)
    assert "esptool erase-flash failed" in line and "BOOT" in line, line
    assert len(calls) == 1


def test_make_firmware_and_make_flash_call_it(tmp_path, serial_port):
    if shutil.which("idf.py"):
        pytest.skip("ESP-IDF is installed here: `make firmware` would build")
    env = {k: v for k, v in os.environ.items() if k not in ("IDF_PATH", "FIRMWARE")}
    env["MICROPY_SRC"] = str(tree(tmp_path))
    done = subprocess.run(["make", "--no-print-directory", "firmware", "BOARD=esp32_devkitc"],
                          cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "firmware: ESP-IDF not found (no idf.py on PATH)" in done.stderr, done.stderr
    image = os.path.join(paths.BUILD, "firmware", "esp32_devkitc", "firmware.bin")
    if os.path.exists(image):
        pytest.skip("an image is built here: `make flash` would flash it")
    done = subprocess.run(["make", "--no-print-directory", "flash", "BOARD=esp32_devkitc",
                           "PORT=" + serial_port], cwd=paths.ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "firmware: no image at %s" % image in done.stderr, done.stderr


# What the board manifests freeze, read by the tree's own manifest reader.

def _tree():
    """The MICROPY_SRC tree with micropython-lib, or a skip saying why not."""
    src, why = mp32.source()
    if src is None:
        pytest.skip("the board manifests are read by a MicroPython tree's manifestfile.py: "
                    + why)
    if not os.path.exists(os.path.join(src, "lib", "micropython-lib", "micropython",
                                       "bluetooth", "aioble", "manifest.py")):
        pytest.skip("MICROPY_SRC=%s has a placeholder lib/micropython-lib: no aioble or ssl "
                    "for the board manifests to require" % src)
    return src


def _frozen(src, manifest, port="esp32"):
    # The tree's own reader, loaded from its file: nothing put on sys.path.
    spec = importlib.util.spec_from_file_location(
        "manifestfile", os.path.join(src, "tools", "manifestfile.py"))
    manifestfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(manifestfile)
    m = manifestfile.ManifestFile(manifestfile.MODE_FREEZE, {
        "MPY_DIR": src, "PORT_DIR": os.path.join(src, "ports", port),
        "BOARD_DIR": os.path.join(src, "ports", port, "boards", "ESP32_GENERIC"),
        "MPY_LIB_DIR": os.path.join(src, "lib", "micropython-lib")})
    m.execute(manifest)
    return {f.target_path: f for f in m.files()}


@pytest.mark.parametrize("board", ["esp32_devkitc", "esp32s3_devkitc1"])
def test_board_manifest_freezes_the_hub_aioble_and_what_the_hub_imports(board):
    src = _tree()
    from tools import mpy_build
    files = _frozen(src, os.path.join(paths.ROOT, "boards", board, "manifest.py"))
    for rel in mpy_build.board_files():
        assert rel in files, rel
        # Frozen, the bytecode is in flash: its line numbers cost no RAM, so a
        # traceback on the board names the line (mpy-cross drops them at -O3).
        assert (files[rel].opt or 0) < 3, (rel, files[rel].opt)
    for rel in mpy_build.HOST_ONLY:
        assert rel not in files, rel
    for rel in ("umqtt/simple.py", "aioble/__init__.py", "aioble/core.py",
                "aioble/device.py", "aioble/central.py", "asyncio/core.py", "ssl.py",
                "ntptime.py", "_boot.py", "inisetup.py", "flashbdev.py"):
        assert rel in files, rel
    # The hub scans and never advertises, serves or connects: aioble's other parts
    # would cost RAM on import (aioble/__init__.py imports what is there).
    for rel in ("aioble/peripheral.py", "aioble/server.py", "aioble/client.py"):
        assert rel not in files, rel
    # umqtt.simple is the one the host tests run (build/host-lib), once.
    assert files["umqtt/simple.py"].full_path.startswith(os.path.join(paths.ROOT, "build"))


def test_the_unix_32_bit_build_shares_the_hub_part_without_aioble():
    src = _tree()
    files = _frozen(src, os.path.join(paths.ROOT, "boards", "manifest_hub.py"), port="unix")
    from tools import mpy_build
    assert set(mpy_build.board_files()) <= set(files)
    # No `bluetooth` module on the unix port: aioble is the board manifests' own.
    assert not any(rel.startswith("aioble/") for rel in files)
