# Whole-firmware heap body; runs under the host micropython on the compiled
# .mpy files with the board shims:  micropython bench_firmware.py base|run DIR [PATHS]
# "base" only imports what the hub imports; "run" builds the hub from DIR's
# config.json (32 BLE sensors), queues 200 signals and works for a while.
# PATHS: the report paths DIR's config names, "mqtt" (default), "mqtt+dc09" or
# "dc09": the modules of those paths count as code. SCAN: "scan" hands the
# adverts to the radio as the board's do, through the hub's Scanner on aioble
# (the real one, frozen into the 32-bit image, over the host's `bluetooth`
# stand-in: tools/mp32.py); else straight to the hub.
import sys
import gc
import json


def main(what, root, paths="mqtt", scan=False):
    # The board's machine, time, network, esp32 and bluetooth are C, in flash:
    # their host stand-ins (tools/shims, with the simulation's glue) are loaded
    # first, and what their modules take is said for the board's figures to
    # leave out (tools/bench.py); what they make at run time stays in. asyncio
    # is the hub's (frozen on the board) and the bluetooth stand-in's: first.
    import asyncio  # noqa: F401
    gc.collect()
    standin = gc.mem_alloc()
    import machine
    import time  # noqa: F401
    import network  # noqa: F401
    import esp32  # noqa: F401
    if scan:
        import bluetooth  # noqa: F401
    gc.collect()
    standin = gc.mem_alloc() - standin
    from hub import boot, hub, store, settings, heap  # noqa: F401
    from panel import panel, config  # noqa: F401
    from drivers import keypad_scan, inputs, outputs  # noqa: F401
    from radio import bthome, sensors, scanner, backlog  # noqa: F401
    # The bench's sensors encode their adverts with the host-only encoder:
    # loaded here so it counts as code, not as the hub's working heap.
    from radio import bthome_encode  # noqa: F401
    from uplink import outbox, clock  # noqa: F401
    if "mqtt" in paths:
        from uplink import link, wire  # noqa: F401
        from umqtt import simple  # noqa: F401
        from hub import ha, presence  # noqa: F401
    if scan:
        import aioble  # noqa: F401
        import bench_firmware_scan
    if "dc09" in paths:
        from hub import dc09 as hub_dc09  # noqa: F401
        from uplink import dc09 as wire_dc09, dc09_answer, dc09_cbc, dc09_link  # noqa: F401
        from uplink import outbox_paths  # noqa: F401
    gc.collect()
    if what == "base":
        print(json.dumps({"ok": True, "alloc": gc.mem_alloc(), "standin": standin}))
        return
    h, s, b = boot.build(root + "/", machine)
    h.log = lambda now, o: None
    for n in range(200):
        h.outbox.put({"code": "E384", "event": 384, "qualifier": "E", "seq": 1000 + n,
                      "zone": 1, "name": "zone_01"}, 0)
    # The config's sensor list is gone once boot made the sensors of it.
    macs = list(h.sensors.by_mac)
    keys = [h.sensors.by_mac[m][sensors.S_KEY] for m in macs]
    s = b = None   # the board's start() lets go of these too once the hub runs
    heard, scanning = 400, None
    if scan:
        heard, scanning = bench_firmware_scan.run(h, macs, keys)
    else:
        now = 0
        for step in range(400):
            now += 10
            i = step % len(macs)
            data = bthome_encode.encode([("packet_id", step & 0xFF), ("battery", 90), ("door", step & 1)],
                                        macs[i], keys[i], 100 + step)
            h.advert(macs[i], data, -60)
            h.step(now)
    gc.collect()
    print(json.dumps({"ok": heard == 400, "alloc": gc.mem_alloc(), "outbox": len(h.outbox),
                      "scanning": scanning}))


main(sys.argv[1], sys.argv[2], (sys.argv[3:] or ["mqtt"])[0], sys.argv[4:5] == ["scan"])
