# aioble's heap body; runs under a micropython with the board shims and either
# aioble (the real one over the bluetooth stand-in, or its stand-in) on the path:
#   micropython bench_aioble_mp.py base|run
# "base" imports the hub's scanner and asyncio; "run" also imports aioble and
# scans: 32 sensors advertise 10 times each, 32 adverts a millisecond, through
# the hub's Scanner. One JSON line: bytes live after the imports without and
# with aioble, and after the scan.
import gc
import sys
import json


def main(what):
    import asyncio
    import _sim
    from radio.scanner import Scanner
    # The host's stand-in for the board's built-in (C) bluetooth module is in
    # the base, for both: what follows counts aioble alone.
    import bluetooth  # noqa: F401
    gc.collect()
    base = gc.mem_alloc()
    if what == "base":
        print(json.dumps({"ok": True, "alloc": base}))
        return
    import aioble  # noqa: F401
    gc.collect()
    code = gc.mem_alloc() - base
    got = [0]

    def deliver(mac, data, rssi):
        got[0] += 1

    scanner = Scanner(deliver, lambda: 0)

    async def scan():
        task = asyncio.create_task(scanner.run())
        for n in range(10):
            for s in range(32):
                _sim.adverts.append({"mac": "3C:2E:F5:00:01:%02X" % s,
                                     "data": "40%02x%02x" % (s, n), "rssi": -60})
            await asyncio.sleep_ms(1)
        for _ in range(1000):       # a tight heap makes it slow, not wrong
            await asyncio.sleep_ms(5)
            if got[0] >= 320:
                break
        task.cancel()
        await asyncio.sleep_ms(2)
    asyncio.run(scan())
    gc.collect()
    print(json.dumps({"ok": got[0] == 320, "code": code, "delivered": got[0],
                      "after": gc.mem_alloc() - base - code}))


main(sys.argv[1])
