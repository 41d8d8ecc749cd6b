# The single owner of the radio: a passive BLE scan that never ends, handing
# each BTHome service-data payload to `deliver(mac, data, rssi)`.
#
# aioble keeps one ScanResult (with its Device) per address seen, for the
# whole scan, to yield a device again only when its RSSI or data changed:
# about 190 B each on the board, so a busy street's phones, whose addresses
# rotate, would fill the heap within one scan, and even the hub's own 32
# sensors hold 6 KB it has no use for (it keeps what it needs in
# radio/sensors). Each result is forgotten once delivered, so aioble holds
# at most the one in hand; the identical repeats aioble would have swallowed
# are rare (the RSSI nearly always differs) and radio/backlog keeps one copy.
# aioble also queues every advert the IRQ delivers; the scan is restarted
# every `restart_ms` so a stuck controller comes back. `deliver`
# only queues (hub.advert -> radio.backlog): aioble hands its queue out newest
# first, and only the loop, with the whole batch, can put it back in order.
import asyncio
from radio import bthome

from panel.compat import const

_AD_SERVICE_DATA_16 = const(0x16)
_UUID_LO = const(0xD2)   # 0xFCD2, little endian
_UUID_HI = const(0xFC)


def service_data(adv):
    # The BTHome payload inside an advertising packet, or None.
    if not adv:
        return None
    i = 0
    n = len(adv)
    while i + 1 < n:
        length = adv[i]
        if length == 0 or i + 1 + length > n:
            return None
        if adv[i + 1] == _AD_SERVICE_DATA_16 and length >= 3 \
                and adv[i + 2] == _UUID_LO and adv[i + 3] == _UUID_HI:
            return bytes(adv[i + 4:i + 1 + length])
        i += 1 + length
    return None


class Scanner:
    restart_ms = 30000
    # Continuous: window = interval, so no advert falls between windows.
    interval_us = 30000
    window_us = 30000

    def __init__(self, deliver, clock):
        self.deliver = deliver
        self.clock = clock       # () -> ms ticks
        self.scans = 0
        self.errors = 0
        self.started = None      # ticks of the last scan start: the hub's liveness check

    async def run(self):
        import aioble
        while True:
            try:
                async with aioble.scan(self.restart_ms, interval_us=self.interval_us,
                                       window_us=self.window_us, active=False) as scan:
                    self.scans += 1
                    self.started = self.clock()
                    # aioble 0.6.1's own set (tools/deploy.py pins that version).
                    seen = getattr(scan, "_results", None)
                    async for result in scan:
                        if seen is not None:
                            seen.discard(result)
                        data = service_data(result.adv_data)
                        if data is not None:
                            self.deliver(bthome.format_mac(result.device.addr), data,
                                         result.rssi)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The radio must come back by itself; a pause keeps a stuck
                # controller from spinning the loop.
                self.errors += 1
                await asyncio.sleep_ms(1000)
