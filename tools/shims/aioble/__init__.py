# Host shim of micropython-lib's aioble: `scan` with the real signature and
# ScanResult objects shaped like the real ones (device.addr, adv_data, rssi),
# fed with adverts from the simulation instead of the radio.
import asyncio
import binascii
import _sim

ADDR_PUBLIC = 0


class Device:
    def __init__(self, addr_type, addr):
        self.addr_type = addr_type
        self.addr = addr

    def addr_hex(self):
        return ":".join("%02x" % b for b in self.addr)


class ScanResult:
    def __init__(self, device, adv_data, rssi):
        self.device = device
        self.adv_data = adv_data
        self.resp_data = None
        self.rssi = rssi
        self.connectable = False


class scan:
    def __init__(self, duration_ms, interval_us=None, window_us=None, active=False):
        self._duration_ms = duration_ms
        self._left = duration_ms

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc_val, exc_traceback):
        pass

    def __aiter__(self):
        return self

    async def __anext__(self):
        while True:
            _sim.poll(force=True)
            if _sim.adverts:
                a = _sim.adverts.pop(0)
                addr = binascii.unhexlify(a["mac"].replace(":", ""))
                data = binascii.unhexlify(a["data"])
                # Service data AD structure: len, 0x16, UUID 0xFCD2 (LE), data.
                adv = bytes((len(data) + 3, 0x16, 0xD2, 0xFC)) + data
                return ScanResult(Device(ADDR_PUBLIC, addr), adv, a.get("rssi", -60))
            if self._left <= 0:
                raise StopAsyncIteration
            # The real radio wakes this task from its IRQ; 1 ms polling of the
            # simulation's socket is the nearest the host gets to that.
            await asyncio.sleep_ms(1)
            self._left -= 1

    async def cancel(self):
        self._left = 0
