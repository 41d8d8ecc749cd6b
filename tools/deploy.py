"""Put the hub on a board.

    python -m tools.deploy flash   --port /dev/ttyUSB0 --board esp32_devkitc --firmware FW.bin
    python -m tools.deploy deploy  --port /dev/ttyUSB0 --board esp32_devkitc [--config config.json]
    python -m tools.deploy console --port /dev/ttyUSB0
    python -m tools.deploy check   --config config.json [--board esp32_devkitc]

flash erases the chip and writes a MicroPython firmware image with esptool at
the board's offset (0x1000 on the ESP32, 0x0 on the S3): tools/firmware.py's,
which without --firmware flashes the frozen image `make firmware` built. deploy checks the
config with the firmware's own validators, refuses a board whose GC heap
cannot hold the config's .mpy image (MPY_HEAP), replaces plain codes by salted hashes
(a board never stores a code in clear), compiles the firmware with mpy-cross,
copies it, the board's pin map and the config with mpremote, installs aioble
with `mpremote mip` when the board lacks it, and resets the board. Without a
board at --port every command stops at once and says so. check needs no board:
it validates the config (and the board's pin map, and the config's pins on it,
when --board is given) exactly as deploy does, and changes nothing.

A pseudo-terminal (socat in front of the host micropython) stands in for a
board in the tests: there mpremote must `resume` (a soft reset would end the
host interpreter) and the final reset is skipped.
"""
import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile

from tools import mpy_build, paths

BOARDS = os.path.join(paths.ROOT, "boards")


# The command being run, to open its error lines (`check: ...`, `deploy: ...`).
_command = "deploy"


def fail(msg):
    print("%s: %s" % (_command, msg), file=sys.stderr)
    sys.exit(2)


def check_port(port):
    if not port:
        fail("no PORT given: plug the board in and pass PORT=/dev/ttyUSB0 (or /dev/ttyACM0)")
    try:
        mode = os.stat(port).st_mode
    except OSError:
        fail("no board at %s: is it plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)" % port)
    if not stat.S_ISCHR(mode):
        fail("%s is not a serial device" % port)


def is_pty(port):
    return os.path.realpath(port).startswith("/dev/pts/")


def load_board(name):
    """(path, raw) of a board in boards/ (or a board file of one's own, by its
    path), its pin map checked by the firmware's own Board."""
    path = os.path.join(BOARDS, (name or "") + ".json")
    if name and name.endswith(".json") and os.path.exists(name):
        path = name
    if not name or not os.path.exists(path):
        names = sorted(f[:-5] for f in os.listdir(BOARDS) if f.endswith(".json"))
        fail("unknown BOARD %r: one of %s" % (name, ", ".join(names)))
    with open(path) as f:
        try:
            raw = json.load(f)
        except ValueError as e:
            fail("%s is not valid JSON: %s" % (path, e))
    from panel.config import ConfigError
    from hub.settings import Board
    try:
        Board(raw)
    except ConfigError as e:
        fail("%s: %s" % (path, e))
    return path, raw


def board_config(path, board=None):
    """The config as it goes on the board: validated (against the board's pins
    when given), codes hashed."""
    from panel import codes
    from panel import codes_host
    from panel.config import Config, ConfigError
    from hub.settings import HubSettings, Board
    if not os.path.exists(path):
        fail("no config at %s: copy tools/demo/hub-config.json, edit it (Wi-Fi, broker, "
             "hub id, secret, zones, users) and pass CONFIG=that file" % path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except OSError as e:
        fail("cannot read the config %s: %s" % (path, e.strerror or e))
    except ValueError as e:
        fail("%s is not valid JSON: %s" % (path, e))
    try:
        Config(raw, os.urandom)
        settings = HubSettings(raw)
        if board is not None:
            Board(board).check_inputs(settings.wired, settings.wired_fields)
    except ConfigError as e:
        fail("%s: %s" % (path, e))
    for user in raw.get("users", []):
        if "code" in user:
            user["code_hash"] = codes_host.make_hash(user.pop("code"), os.urandom(codes.SALT_BYTES))
    return raw


def check(config_path, board):
    """deploy's validation alone: no board, no build, nothing written."""
    board_path, board_raw = load_board(board) if board else (None, None)
    cfg = board_config(config_path, board_raw)
    print("%s: good%s (hub %s, %d zones, %d users)"
          % (config_path, " on %s" % os.path.basename(board_path) if board_path else "",
             cfg.get("hub_id"), len(cfg.get("zones", [])), len(cfg.get("users", []))))


def mpremote(port, *args, check=True):
    cmd = [paths.venv_tool("mpremote"), "connect", port]
    if is_pty(port):
        cmd.append("resume")
    done = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        fail("mpremote %s failed:\n%s%s" % (" ".join(args[:3]), done.stdout, done.stderr))
    return done


# The GC heap the `.mpy` image needs, by the config's report paths: the
# smallest heap the firmware bench run completes in on a 32-bit MicroPython
# v1.28 (the ESP32's word size), rounded up over the measured range, the .mpy
# files with their line numbers (docs/board.md, "Line numbers": 186.4-186.7 KB
# MQTT, 218.6-218.8 KB both, 179.8 KB DC-09; issue 21: 180-192 KB MQTT). A
# floor, not a margin: Wi-Fi, BLE and mbedtls take theirs from the IDF heap
# beside it. The frozen image (make firmware) needs 102-115 KB, which is why it
# is the way out.
MPY_HEAP = {("mqtt",): 183 * 1024, ("dc09", "mqtt"): 214 * 1024, ("dc09",): 176 * 1024}
_PATH_NAMES = {("mqtt",): "MQTT", ("dc09", "mqtt"): "MQTT + DC-09", ("dc09",): "DC-09"}

# Run on the board: its GC heap after a collect, and its PSRAM. On the ESP32
# gc.mem_free() also counts the largest block the IDF heap would add on demand
# (the port grows its GC heap), so free + alloc is what the hub can have. PSRAM
# is the IDF data regions of 1 MB or more: no internal RAM region is that big.
_PROBE = """import gc
gc.collect()
p = 0
try:
    import esp32
    p = sum(r[0] for r in esp32.idf_heap_info(esp32.HEAP_DATA) if r[0] >= 1048576)
except (ImportError, AttributeError):
    pass
f = 0
import sys
s = sys.path[:]
sys.path[:] = ['.frozen']
try:
    import hub
    f = 1
    del sys.modules['hub']
except ImportError:
    pass
sys.path[:] = s
print('heap', gc.mem_free() + gc.mem_alloc(), p, f)
"""


def board_memory(port):
    """(GC heap, PSRAM in bytes, whether its firmware has the hub frozen in)."""
    out = mpremote(port, "exec", _PROBE).stdout.split()
    try:
        i = out.index("heap")
        return int(out[i + 1]), int(out[i + 2]), out[i + 3] == "1"
    except (ValueError, IndexError):
        fail("the board at %s did not report its heap: %r" % (port, " ".join(out)[-200:]))


def check_memory(port, cfg):
    """Refuse, before anything is built or copied, a board whose GC heap
    cannot hold the config's .mpy image; returns whether the hub is frozen in
    the board's firmware (`make firmware`), which needs no .mpy image."""
    key = tuple(sorted(set(mpy_build.paths_of(cfg))))
    need = MPY_HEAP.get(key, max(MPY_HEAP.values()))
    heap, psram, frozen = board_memory(port)
    if frozen or heap >= need:
        return frozen
    fail("the board at %s has %s B of GC heap and %s; the %s .mpy image needs %s B "
         "(docs/board.md): flash the frozen image (make firmware, make flash: "
         "boards/<board>/manifest.py on boards/manifest_hub.py), or use a PSRAM "
         "board (boards/esp32_wrover.json, an ESP32-S3 N8R8) on MicroPython's SPIRAM firmware"
         % (port, "{:,}".format(heap),
            "%s B of PSRAM" % "{:,}".format(psram) if psram else "no PSRAM",
            _PATH_NAMES.get(key, "+".join(key)), "{:,}".format(need)))


def deploy(port, board, config_path):
    check_port(port)
    board_path, board_raw = load_board(board)
    cfg = board_config(config_path, board_raw)
    if check_memory(port, cfg):
        _deploy_frozen(port, board_path, cfg)
        return
    # A build of its own for each deploy: what is copied is what was just
    # compiled for this config, whatever else runs from this checkout.
    with tempfile.TemporaryDirectory(prefix="alarm-deploy-") as out:
        _deploy(port, board_path, cfg, out)


# aioble-central's and aioble-core's own versions in aioble 0.6.1; central
# first: the index may name its core dependency at its newest.
AIOBLE = ("aioble-central@0.3.0", "aioble-core@0.4.0")


def _deploy(port, board_path, cfg, out):
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f)
    mpy = os.path.join(out, "mpy")
    # Only the report paths' code the config uses (and the software AES only for
    # a 24-character DC-09 key): the board's flash budget.
    sizes = mpy_build.image_of(mpy_build.build(mpy), cfg)
    if mpremote(port, "exec", "import aioble", check=False).returncode != 0:
        # The hub only scans: aioble's central part (with its core) is what it
        # runs; the whole package costs about 6 KB more code and 9 KB more heap
        # on a 32-bit build (docs/board.md, "aioble: the real one on the host").
        # Pinned to micropython-lib v1.28.0's (aioble 0.6.1, tools/aioble_real.py):
        # the version the suite runs and radio/scanner.py relies on.
        print("installing aioble on the board (mpremote mip install %s)" % " ".join(AIOBLE))
        for package in AIOBLE:
            mpremote(port, "mip", "install", package)
    dirs = sorted({os.path.dirname(rel) for rel in sizes if os.path.dirname(rel)})
    steps = []
    for d in dirs:
        steps += ["exec", "import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % d, "+"]
    for rel in sorted(sizes):
        if rel == "main.py":
            # The board runs main.py by name: it goes as source.
            steps += ["fs", "cp", os.path.join(paths.FIRMWARE, rel), ":main.py", "+"]
        else:
            name = rel[:-3] + ".mpy"
            steps += ["fs", "cp", os.path.join(mpy, name), ":" + name, "+"]
    steps += ["fs", "cp", board_path, ":board.json", "+",
              "fs", "cp", os.path.join(out, "config.json"), ":config.json"]
    mpremote(port, *steps)
    print("deployed %d files (%d bytes of .mpy) to %s" % (len(sizes), sum(sizes.values()), port))
    if not is_pty(port):
        mpremote(port, "reset")
        print("board reset: the hub starts now (make console PORT=%s to watch it)" % port)


def _deploy_frozen(port, board_path, cfg):
    """The hub's code is in the board's firmware: its pin map and config alone
    go over, and hub files an earlier .mpy deploy left are removed, since the
    filesystem ('') comes before .frozen on the board's sys.path."""
    rels = mpy_build.board_files() + list(mpy_build.HOST_ONLY)
    stale = sorted(p for rel in rels for p in (rel, rel[:-3] + ".mpy"))
    # Their folders too: an empty hub/ would still be imported as the package.
    stale += sorted({os.path.dirname(rel) for rel in rels if os.path.dirname(rel)},
                    key=len, reverse=True)
    remove = ("import os\nfor p in %r:\n try:\n  os.remove(p)\n except OSError:\n"
              "  try:\n   os.rmdir(p)\n  except OSError:\n   pass" % stale)
    with tempfile.TemporaryDirectory(prefix="alarm-deploy-") as out:
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(cfg, f)
        mpremote(port, "exec", remove, "+", "fs", "cp", board_path, ":board.json", "+",
                 "fs", "cp", os.path.join(out, "config.json"), ":config.json")
    print("the hub is frozen in the firmware at %s: copied board.json and config.json"
          % port)
    if not is_pty(port):
        mpremote(port, "reset")
        print("board reset: the hub starts now (make console PORT=%s to watch it)" % port)


def flash(port, board, firmware):
    # One flasher for the stock .bin and the frozen image `make firmware` builds.
    from tools import firmware as image
    try:
        image.flash(board, port, firmware)
    except image.Refused as e:
        fail(str(e))


def console(port):
    check_port(port)
    os.execv(paths.venv_tool("mpremote"), ["mpremote", "connect", port, "repl"])


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.deploy")
    ap.add_argument("command", choices=("flash", "deploy", "console", "check"))
    ap.add_argument("--port", default=os.getenv("PORT"))
    ap.add_argument("--board", default=os.getenv("BOARD"))
    ap.add_argument("--firmware", default=os.getenv("FIRMWARE"))
    ap.add_argument("--config", default=os.getenv("CONFIG") or "config.json")
    a = ap.parse_args(argv)
    global _command
    _command = a.command
    if a.command == "check":
        check(a.config, a.board)
    elif a.command == "flash":
        flash(a.port, a.board, a.firmware)
    elif a.command == "deploy":
        deploy(a.port, a.board, a.config)
    else:
        console(a.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
