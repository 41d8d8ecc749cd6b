# What every ESP32 board's frozen image holds (boards/<board>/manifest.py
# include this): the hub's shared part and what only a board has.
#
# Not the stock firmware's boards/manifest.py: it freezes umqtt.simple from
# micropython-lib, where the hub's is the one the host tests run
# (manifest_hub.py), and packages the hub never imports (dht, neopixel,
# webrepl, ...).

# The port's own boot: _boot.py mounts the filesystem (inisetup.py makes it on
# the first boot, on flashbdev.py's partition).
freeze("$(PORT_DIR)/modules")  # noqa: F821 (the manifest API)

# The hub: its board files (with line numbers), asyncio and umqtt.simple. The
# 32-bit unix build freezes the same file (tools/mp32.py), so the bytes tested
# there are these.
include("manifest_hub.py")  # noqa: F821

# What the hub imports from micropython-lib beside it: ssl (uplink/tls.py),
# ntptime (uplink/clock.py).
require("ssl")  # noqa: F821
require("ntptime")  # noqa: F821

# aioble, on the board alone (the unix port has no `bluetooth` module to run it
# on). Its central part only: the hub scans (radio/scanner.py) and never
# advertises, serves or connects, and aioble/__init__.py imports every part
# that is there, each costing GC heap.
require("aioble-central")  # noqa: F821
