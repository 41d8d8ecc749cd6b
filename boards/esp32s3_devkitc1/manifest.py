# The frozen hub image for the ESP32-S3-DevKitC-1 N8 / N16 (no PSRAM):
# `make firmware BOARD=esp32s3_devkitc1` builds MicroPython's ESP32_GENERIC_S3
# with it (tools/firmware.py). The N8R8 / N16R8 take the stock SPIRAM firmware
# and the .mpy deploy instead (docs/board.md).
include("../manifest_esp32.py")  # noqa: F821 (the manifest API)
