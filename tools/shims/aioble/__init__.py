# Host shim of micropython-lib's aioble scanner, fed by the simulation instead
# of the radio. The firmware must cope with how the real module hands out its
# results, so the shim keeps the same behaviour (aioble/central.py):
# - the BLE IRQ appends every advert, as a new tuple with copies of the
#   address and data, to the scan's queue, which has no bound;
# - the scan iterator pops that queue from the END: adverts that piled up
#   while the loop was busy come out newest first;
# - each device has one ScanResult, updated in place and yielded again only
#   when its RSSI or advert data changed (an identical repeat is swallowed);
# - the results are kept for the whole scan, one per device ever seen, in a
#   set (`_results`) searched from start to end for each advert.
import asyncio
import binascii
import _sim

ADDR_PUBLIC = 0
_ADV_IND = 0
_ADV_SCAN_IND = 2
_ADV_NONCONN_IND = 3
_SCAN_RSP = 4

_active_scanner = None


class Device:
    def __init__(self, addr_type, addr):
        self.addr_type = addr_type
        self.addr = addr

    def addr_hex(self):
        return ":".join("%02x" % b for b in self.addr)


class ScanResult:
    def __init__(self, device):
        self.device = device
        self.adv_data = None
        self.resp_data = None
        self.rssi = None
        self.connectable = False

    def _update(self, adv_type, rssi, adv_data):
        # True when this event tells something new about the device.
        changed = rssi != self.rssi
        self.rssi = rssi
        if adv_type == _ADV_IND or adv_type == _ADV_NONCONN_IND:
            if adv_data != self.adv_data:
                self.adv_data = adv_data
                self.connectable = adv_type == _ADV_IND
                changed = True
        elif adv_type == _ADV_SCAN_IND:
            if adv_data != self.adv_data and self.resp_data:
                changed = True
            self.adv_data = adv_data
        elif adv_type == _SCAN_RSP and adv_data and adv_data != self.resp_data:
            self.resp_data = adv_data
            changed = True
        return changed


def scan_result_irq(addr_type, addr, adv_type, rssi, adv_data):
    # What the BLE stack's _IRQ_SCAN_RESULT does: queue, never drop.
    if _active_scanner is not None:
        _active_scanner._queue.append((addr_type, bytes(addr), adv_type, rssi, bytes(adv_data)))


def _from_simulation():
    _sim.poll(force=True)
    while _sim.adverts:
        a = _sim.adverts.pop(0)
        data = binascii.unhexlify(a["data"])
        # Service data AD structure: len, 0x16, UUID 0xFCD2 (LE), data.
        adv = bytes((len(data) + 3, 0x16, 0xD2, 0xFC)) + data
        scan_result_irq(ADDR_PUBLIC, binascii.unhexlify(a["mac"].replace(":", "")),
                        a.get("adv_type", _ADV_NONCONN_IND), a.get("rssi", -60), adv)


class scan:
    def __init__(self, duration_ms, interval_us=None, window_us=None, active=False):
        self._queue = []
        self._results = set()
        self._left = duration_ms

    async def __aenter__(self):
        global _active_scanner
        _active_scanner = self
        return self

    async def __aexit__(self, exc_type, exc_val, exc_traceback):
        await self.cancel()

    def __aiter__(self):
        return self

    async def __anext__(self):
        global _active_scanner
        while _active_scanner is self:
            _from_simulation()
            while self._queue:
                addr_type, addr, adv_type, rssi, adv_data = self._queue.pop()
                for r in self._results:
                    if r.device.addr_type == addr_type and r.device.addr == addr:
                        result = r
                        break
                else:
                    result = ScanResult(Device(addr_type, addr))
                    self._results.add(result)
                if result._update(adv_type, rssi, adv_data):
                    return result
            if self._left <= 0:
                break
            # The real radio wakes this task from its IRQ; 1 ms polling of the
            # simulation's socket is the nearest the host gets to that.
            await asyncio.sleep_ms(1)
            self._left -= 1
        if _active_scanner is self:
            _active_scanner = None
        raise StopAsyncIteration

    async def cancel(self):
        global _active_scanner
        self._left = 0
        if _active_scanner is self:
            _active_scanner = None
