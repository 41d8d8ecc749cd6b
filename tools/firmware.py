"""The frozen hub image for a board without PSRAM (issue 21, docs/board.md).

    MICROPY_SRC=/path/to/micropython python -m tools.firmware build --board esp32_devkitc
    python -m tools.firmware flash --board esp32_devkitc --port /dev/ttyUSB0 [--firmware F.bin]

build: MicroPython v1.28.0's ESP32 port built by ESP-IDF's idf.py with the
board's manifest (boards/<board>/manifest.py: the hub, umqtt.simple, aioble,
ssl frozen in), then the port's makeimg.py joins bootloader, partition table
and application into build/firmware/<board>/firmware.bin, the image
micropython.org ships. A board with no manifest is a PSRAM board: it takes the
stock SPIRAM firmware and `make deploy`.

flash: erases the chip and writes that image (or --firmware, e.g. a stock
.bin from micropython.org) with esptool at the board's offset (flash_offset in
its board file: 0x1000 on the ESP32, 0x0 on the S3).

Whatever is missing (ESP-IDF, the source tree, the image, esptool, the board)
stops it with one line saying what and how to get it.
"""
import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys

from tools import mp32, paths

BOARDS = os.path.join(paths.ROOT, "boards")

# MicroPython's board for each chip the boards/ files name.
MP_BOARD = {"esp32": "ESP32_GENERIC", "esp32s3": "ESP32_GENERIC_S3"}

# ports/esp32/README.md of v1.28.0: "The current recommended version of ESP-IDF
# for MicroPython is v5.5.1. MicroPython also supports v5.3, v5.4, v5.4.1 and
# v5.4.2."
IDF_RECOMMENDED = "5.5.1"
IDF_SUPPORTED = ("5.3", "5.4", "5.4.1", "5.4.2", "5.5.1")

HOW_TO_GET_IDF = (
    "MicroPython v%s's ESP32 port builds with ESP-IDF v%s (also v5.3, v5.4 to v5.4.2): "
    "`git clone -b v%s --recursive https://github.com/espressif/esp-idf.git && "
    "esp-idf/install.sh esp32,esp32s3 && . esp-idf/export.sh`, then run this again"
    % (mp32.VERSION, IDF_RECOMMENDED, IDF_RECOMMENDED))

HOW_TO_GET_TREE = (
    "`git clone -b v%s https://github.com/micropython/micropython && "
    "make -C micropython/ports/esp32 submodules` (its lib/micropython-lib gives aioble, "
    "ssl and ntptime), then MICROPY_SRC=that tree" % mp32.VERSION)


class Refused(Exception):
    """One line saying what is missing and how to get it."""


def out_dir(board):
    return os.path.join(paths.BUILD, "firmware", board)


def load_board(name):
    """(board file's dict, its frozen manifest or None for a PSRAM board)."""
    names = sorted(f[:-5] for f in os.listdir(BOARDS) if f.endswith(".json"))
    if name not in names:
        raise Refused("unknown BOARD %r: one of %s" % (name, ", ".join(names)))
    with open(os.path.join(BOARDS, name + ".json")) as f:
        raw = json.load(f)
    if raw.get("chip") not in MP_BOARD:
        raise Refused("%s's chip %r has no MicroPython board here (one of %s)"
                      % (name, raw.get("chip"), ", ".join(sorted(MP_BOARD))))
    manifest = os.path.join(BOARDS, name, "manifest.py")
    return raw, manifest if os.path.exists(manifest) else None


def source(src=None):
    """The MicroPython v1.28.0 tree to build the ESP32 port from."""
    src = src if src is not None else os.environ.get("MICROPY_SRC", "")
    if not src:
        raise Refused("MICROPY_SRC is not set: " + HOW_TO_GET_TREE)
    src = os.path.abspath(src)
    try:
        with open(os.path.join(src, "py", "mpconfig.h")) as f:
            text = f.read()
        got = ".".join(re.search(r"#define MICROPY_VERSION_%s \(?(\d+)" % k, text).group(1)
                       for k in ("MAJOR", "MINOR", "MICRO"))
    except (OSError, AttributeError):
        got = None
    if got != mp32.VERSION or not os.path.exists(os.path.join(src, "ports", "esp32",
                                                                "Makefile")):
        raise Refused("MICROPY_SRC=%s is not a MicroPython v%s tree%s: %s"
                      % (src, mp32.VERSION, " (it is %s)" % got if got else "",
                         HOW_TO_GET_TREE))
    if not os.path.exists(os.path.join(src, "lib", "micropython-lib", "micropython",
                                       "bluetooth", "aioble", "manifest.py")):
        raise Refused("MICROPY_SRC=%s has no lib/micropython-lib (aioble, ssl, ntptime): "
                      "`git -C %s submodule update --init lib/micropython-lib`" % (src, src))
    return src


def idf():
    """idf.py's path and its ESP-IDF version (a warning when the port does not support it)."""
    idf_py = shutil.which("idf.py")
    if not idf_py:
        raise Refused("ESP-IDF not found (no idf.py on PATH): " + HOW_TO_GET_IDF)
    if not os.environ.get("IDF_PATH"):
        raise Refused("IDF_PATH is not set though idf.py is on PATH: `. esp-idf/export.sh` "
                      "in this shell (ESP-IDF v%s)" % IDF_RECOMMENDED)
    done = subprocess.run([idf_py, "--version"], capture_output=True, text=True)
    m = re.search(r"v(\d+\.\d+(?:\.\d+)?)", done.stdout or "")
    version = m.group(1) if m else None
    if version not in IDF_SUPPORTED:
        # Not a refusal: a newer patch release may build; if it does not, this says why.
        print("firmware: warning: ESP-IDF %s is not one MicroPython v%s supports (v%s "
              "recommended; %s): the build may fail"
              % ("v" + version if version else "of unknown version (%s)"
                 % (done.stdout or "").strip(), mp32.VERSION, IDF_RECOMMENDED,
                 ", ".join("v" + v for v in IDF_SUPPORTED)), file=sys.stderr)
    return idf_py


def build(board, out=None, src=None):
    """Build the board's frozen image; returns firmware.bin's path."""
    raw, manifest = load_board(board)
    if manifest is None:
        raise Refused("%s is a PSRAM board: flash MicroPython's stock SPIRAM firmware "
                      "(make flash BOARD=%s FIRMWARE=%s-SPIRAM-v%s.bin from "
                      "micropython.org/download) and `make deploy` the .mpy files "
                      "(docs/board.md)" % (board, board, MP_BOARD[raw["chip"]], mp32.VERSION))
    src = source(src)
    idf_py = idf()
    out = os.path.abspath(out or out_dir(board))
    from tools.hubsim import HOST_LIB
    if not os.path.exists(os.path.join(HOST_LIB, "umqtt", "simple.py")):
        subprocess.run([sys.executable, "-m", "tools.fetch_umqtt"], check=True, cwd=paths.ROOT)
    port = os.path.join(src, "ports", "esp32")
    mp_board = MP_BOARD[raw["chip"]]
    cmd = [idf_py, "-C", port, "-B", out,
           "-D", "MICROPY_BOARD=" + mp_board,
           "-D", "MICROPY_BOARD_DIR=" + os.path.join(port, "boards", mp_board),
           "-D", "MICROPY_FROZEN_MANIFEST=" + manifest, "build"]
    print(" ".join(cmd))
    done = subprocess.run(cmd)
    if done.returncode != 0:
        raise Refused("idf.py build failed (exit %d): its output above says why"
                      % done.returncode)
    parts = [os.path.join(out, "sdkconfig"),
             os.path.join(out, "bootloader", "bootloader.bin"),
             os.path.join(out, "partition_table", "partition-table.bin"),
             os.path.join(out, "micropython.bin")]
    for p in parts:
        if not os.path.exists(p):
            raise Refused("idf.py made no %s: see its output above" % p)
    image = os.path.join(out, "firmware.bin")
    # As ports/esp32/Makefile does after idf.py: makeimg.py reads IDF's partition tool.
    done = subprocess.run([sys.executable, os.path.join(port, "makeimg.py")] + parts +
                          [image, os.path.join(out, "micropython.uf2")], cwd=port)
    if done.returncode != 0 or not os.path.exists(image):
        raise Refused("makeimg.py could not join the image (exit %d)" % done.returncode)
    print("%s: %s (%d bytes): make flash BOARD=%s PORT=/dev/ttyUSB0"
          % (board, image, os.path.getsize(image), board))
    return image


def esptool():
    for name in ("esptool", "esptool.py"):
        found = shutil.which(name)
        if found:
            return found
    raise Refused("esptool not found on PATH: `make venv` installs it into .venv "
                  "(or pip install esptool)")


def check_port(port):
    if not port:
        raise Refused("no PORT given: plug the board in and pass PORT=/dev/ttyUSB0 "
                      "(or /dev/ttyACM0)")
    try:
        mode = os.stat(port).st_mode
    except OSError:
        raise Refused("no board at %s: is it plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)" % port)
    if not stat.S_ISCHR(mode):
        raise Refused("%s is not a serial device" % port)


def flash(board, port, firmware=None, out=None):
    """Erase the chip and write the image at the board's offset."""
    raw, _ = load_board(board)
    check_port(port)
    if firmware:
        image = firmware
        if not os.path.exists(image):
            raise Refused("FIRMWARE=%s not found: download the MicroPython .bin for %s from "
                          "micropython.org/download, or leave FIRMWARE out to flash the image "
                          "`make firmware` built" % (image, raw["name"]))
    else:
        image = os.path.join(os.path.abspath(out or out_dir(board)), "firmware.bin")
        if not os.path.exists(image):
            raise Refused("no image at %s: build it first with `make firmware BOARD=%s` "
                          "(ESP-IDF), or pass FIRMWARE=<a .bin>" % (image, board))
    tool = esptool()
    base = [tool, "--chip", raw["chip"], "--port", port]
    for step, args in (("erase-flash", ["erase-flash"]),
                       ("write-flash", ["--baud", "460800", "write-flash", "-z",
                                        raw["flash_offset"], image])):
        if subprocess.run(base + args).returncode != 0:
            raise Refused("esptool %s failed (hold BOOT while plugging in, then try again)"
                          % step)
    print("%s flashed with %s: now `make deploy PORT=%s BOARD=%s`" % (port, image, port, board))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.firmware")
    ap.add_argument("command", choices=("build", "flash"))
    ap.add_argument("--board", default=os.getenv("BOARD"))
    ap.add_argument("--port", default=os.getenv("PORT"))
    ap.add_argument("--firmware", default=os.getenv("FIRMWARE"))
    ap.add_argument("--out", help="the build directory (build/firmware/<board>)")
    a = ap.parse_args(argv)
    try:
        if a.command == "build":
            build(a.board, a.out)
        else:
            flash(a.board, a.port, a.firmware, a.out)
    except Refused as e:
        print("firmware: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
