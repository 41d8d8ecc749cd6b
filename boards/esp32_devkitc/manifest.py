# The frozen hub image for the ESP32-DevKitC (WROOM-32, no PSRAM):
# `make firmware BOARD=esp32_devkitc` builds MicroPython's ESP32_GENERIC with it
# (tools/firmware.py). Without PSRAM the GC heap is about 112 KB, which the
# hub's .mpy files alone would fill (docs/board.md): frozen, its bytecode stays
# in flash.
include("../manifest_esp32.py")  # noqa: F821 (the manifest API)
