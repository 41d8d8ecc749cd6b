# bench_firmware.py's adverts as a board's radio hands them (its "scan"):
# through the hub's Scanner on aioble, the real one frozen into the 32-bit
# image (tools/mp32.py), over the host's `bluetooth` stand-in, which hears
# what the simulation puts in _sim.adverts. Returns how many the hub got and
# the bytes live before the scan stops (a board's never does: aioble's result
# per sensor stays until the Scanner restarts it).
import asyncio
import gc
import binascii

import _sim
from radio import bthome_encode, scanner


def run(h, macs, keys):
    heard = [0]
    live = [0]

    def deliver(mac, data, rssi):
        heard[0] += 1
        h.advert(mac, data, rssi)

    async def work():
        radio = asyncio.create_task(scanner.Scanner(deliver, lambda: 0).run())
        for step in range(400):
            i = step % len(macs)
            data = bthome_encode.encode([("packet_id", step & 0xFF), ("battery", 90),
                                         ("door", step & 1)], macs[i], keys[i], 100 + step)
            _sim.adverts.append({"mac": macs[i], "data": binascii.hexlify(data).decode()})
            for _ in range(200):      # a tight heap makes it slow, not wrong
                if heard[0] > step:
                    break
                await asyncio.sleep_ms(1)
            h.step((step + 1) * 10)
        gc.collect()
        live[0] = gc.mem_alloc()
        radio.cancel()
        await asyncio.sleep_ms(2)
    asyncio.run(work())
    return heard[0], live[0]
