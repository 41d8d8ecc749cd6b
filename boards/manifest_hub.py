# The hub frozen into a MicroPython image (FROZEN_MANIFEST=.../boards/manifest_hub.py):
# its bytecode then lives in flash, not in the GC heap, which is what a board
# without PSRAM needs (issue 21). `python -m tools.mp32 build` freezes it into a
# 32-bit unix port of MicroPython v1.28.0 to measure and test the frozen image.
#
# What it freezes:
# - asyncio (MicroPython's own, as the stock firmware freezes it);
# - the hub's board files, as tools/mpy_build.board_files() lists them (every
#   report path's files: the hub imports only its config's), with their line
#   numbers (mpy-cross's default): frozen, bytecode and line tables are in flash,
#   not the GC heap, so a traceback on the board names the line for free;
# - umqtt.simple, from build/host-lib (`make venv` fetches it: tools/fetch_umqtt.py).
#
# The board images (boards/<board>/manifest.py, through boards/manifest_esp32.py)
# include this file and add what only a board runs (aioble, on the `bluetooth`
# module the unix port lacks).
#
# include(".../boards/manifest_hub.py", host_only=True) also freezes the
# host-only files (tools/mpy_build.HOST_ONLY, never on a board): the 32-bit
# bench's simulated sensors encode their adverts with radio/bthome_encode.py,
# and a frozen package's submodules can only be frozen ones.
#
# makemanifest runs this file with the current directory set to boards/.
import os
import sys

options.defaults(host_only=False)  # noqa: F821 (the manifest API)

_ROOT = os.path.dirname(os.path.abspath(os.getcwd()))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from tools import mpy_build  # noqa: E402

_FIRMWARE = os.path.join(_ROOT, "firmware")
_HOST_LIB = os.environ.get("HUB_HOST_LIB") or os.path.join(_ROOT, "build", "host-lib")

include("$(MPY_DIR)/extmod/asyncio")  # noqa: F821

for _rel in mpy_build.board_files() + (list(mpy_build.HOST_ONLY) if options.host_only else []):  # noqa: F821
    module(_rel, base_path=_FIRMWARE)  # noqa: F821

if not os.path.exists(os.path.join(_HOST_LIB, "umqtt", "simple.py")):
    raise Exception("no umqtt/simple.py in %s: run 'make venv' (tools/fetch_umqtt.py)" % _HOST_LIB)
module("umqtt/simple.py", base_path=_HOST_LIB)  # noqa: F821
