# Runs under the host micropython (test_aioble_real.py), once with the aioble
# stand-in (tools/shims/aioble) and once with micropython-lib's real aioble on
# the bluetooth stand-in. Each case_* returns what the firmware can see, as
# JSON; the test asks for the same answer from both. Adverts go in where the
# simulation puts them (_sim.adverts), the one input both read.
import asyncio
import binascii
import json
import sys

import _sim
import aioble
from radio import bthome_encode
from radio.scanner import Scanner

DOOR = "3C:2E:F5:00:00:01"
OTHER = "3C:2E:F5:00:00:02"
KEY = bytes(range(16))


def _hex(b):
    return binascii.hexlify(b).decode() if b is not None else None


def _advert(mac, data, rssi=-60, adv_type=3):
    _sim.adverts.append({"mac": mac, "data": _hex(data), "rssi": rssi, "adv_type": adv_type})


def _door(value, counter):
    return bthome_encode.encode([("packet_id", counter & 0xFF), ("door", value)], DOOR, KEY, counter)


def _seen(result):
    # Every field of a ScanResult the firmware may read, and their types.
    d = result.device
    return [d.addr_type, _hex(d.addr), d.addr_hex(), _hex(result.adv_data), _hex(result.resp_data),
            result.rssi, result.connectable, type(d.addr).__name__,
            type(result.adv_data).__name__]


async def _collect(duration_ms, **kw):
    got = []
    async with aioble.scan(duration_ms, **kw) as scanner:
        async for result in scanner:
            got.append(_seen(result))
    return got


def case_queue_order_newest_first():
    _advert(DOOR, b"\x40\x1a\x01")
    _advert(OTHER, b"\x40\x21\x01")
    _advert(DOOR, b"\x40\x1a\x00")
    return asyncio.run(_collect(20))


def case_repeats_and_rssi():
    _advert(DOOR, b"\x40\x1a\x01", -60)
    _advert(DOOR, b"\x40\x1a\x01", -60)
    _advert(DOOR, b"\x40\x1a\x01", -70)
    _advert(DOOR, b"\x40\x1a\x01", -70)
    return asyncio.run(_collect(20))


def case_adv_types():
    # Connectable, scannable and scan responses update a result differently.
    _advert(DOOR, b"\x40\x1a\x01", -60, 0)         # ADV_IND
    _advert(OTHER, b"\x40\x21\x01", -60, 2)        # ADV_SCAN_IND: no response yet, not news
    _advert(OTHER, b"\x40\x21\x02", -61, 4)        # SCAN_RSP
    _advert(DOOR, b"\x40\x1a\x01", -60, 1)         # ADV_DIRECT_IND: only the RSSI counts
    return asyncio.run(_collect(20, active=True))


def case_one_result_per_device():
    got = []

    async def run():
        async with aioble.scan(20, interval_us=30000, window_us=30000, active=False) as scanner:
            async for result in scanner:
                got.append(result)
    _advert(DOOR, b"\x40\x1a\x01")
    _advert(DOOR, b"\x40\x1a\x00")
    asyncio.run(run())
    return [len(got), got[0] is got[1], _hex(got[0].adv_data)]


def case_faster_than_consumed():
    # 60 adverts from 30 devices arrive, 10 a millisecond, while the consumer
    # is busy with the first: nothing is dropped and the pile comes out
    # newest first.
    got = []
    poured = asyncio.Event()

    async def radio():
        while not got:
            await asyncio.sleep_ms(1)
        for n in range(60):
            _advert("3C:2E:F5:00:01:%02X" % (n % 30), bytes((0x40, 0x1a, n)), -50 - n % 7)
            if n % 10 == 9:
                await asyncio.sleep_ms(1)
        await asyncio.sleep_ms(5)       # the last ones reach aioble's queue
        poured.set()

    async def run():
        _advert(DOOR, b"\x40\x1a\x01")
        task = asyncio.create_task(radio())
        async with aioble.scan(0) as scanner:
            async for result in scanner:
                got.append(_seen(result))
                if len(got) == 1:
                    await poured.wait()
                elif len(got) == 61:
                    break
        await task
    asyncio.run(run())
    return [len(got), [g[1][-2:] + g[3][-2:] for g in got]]


def case_heard_before_the_scan_then_idle():
    # The simulation's socket holds what came before the scan; a second scan
    # hears nothing new.
    _advert(DOOR, b"\x40\x1a\x01")

    async def idle():
        await asyncio.sleep_ms(5)
    asyncio.run(idle())
    first = asyncio.run(_collect(10))
    return [first, asyncio.run(_collect(10))]


def case_ends_after_duration():
    async def run():
        t = asyncio.create_task(_collect(30))
        await asyncio.sleep_ms(200)
        return t.done()
    return asyncio.run(run())


def case_cancel_ends_the_iteration():
    async def run():
        got = []
        async with aioble.scan(0) as scanner:
            _advert(DOOR, b"\x40\x1a\x01")
            async for result in scanner:
                got.append(_seen(result))
                await scanner.cancel()
        return got
    return asyncio.run(run())


class _Loop:
    # The hub's side of the scanner, as boot wires it: hub.advert then hub.step.
    def __init__(self):
        from hub.hub import Hub
        from panel.config import Config
        from panel.panel import Panel
        from panel.replay import DEFAULT_CONFIG
        from radio.sensors import Sensors

        class Store:
            def save(self, name, value):
                pass

        sensors = Sensors()
        sensors.add(DOOR, "front_door", "contact", KEY)
        self.hub = Hub(Panel(Config(DEFAULT_CONFIG, lambda n: bytes(n)), 1000), Store(),
                       sensors=sensors, log=lambda now, item: None)
        self.events = []
        self.delivered = []
        self.hub.presence = self
        self.now = 1000

    def zone(self, zone, event):
        if event != "checkin":
            self.events.append(event)

    def sensor(self, s):
        pass

    def status(self, now, fn):
        pass

    def deliver(self, mac, data, rssi):
        self.delivered.append([mac, _hex(data), rssi])
        self.hub.advert(mac, data, rssi)

    async def run(self, scanner, batches):
        task = asyncio.create_task(scanner.run())
        while scanner.started is None:
            await asyncio.sleep_ms(1)
        for batch in batches:
            want = len(self.delivered) + len(batch)
            for mac, data in batch:
                _advert(mac, data)          # heard while the loop was busy
            for _ in range(500):            # the scan task drains aioble's queue
                await asyncio.sleep_ms(1)
                if len(self.delivered) >= want:
                    break
            self.now += 10
            self.hub.step(self.now)
        task.cancel()
        await asyncio.sleep_ms(0)


def case_scanner_to_sensor_events():
    loop = _Loop()
    scanner = Scanner(loop.deliver, lambda: loop.now)
    asyncio.run(loop.run(scanner, [[(DOOR, _door(1, 10))], [(DOOR, _door(0, 11))],
                                   [(DOOR, _door(1, 12)), (DOOR, _door(0, 13))],
                                   [(OTHER, b"\x40\x21\x01"), (DOOR, _door(1, 14)),
                                    (DOOR, _door(1, 14)), (DOOR, _door(0, 15))]]))
    return [loop.delivered, loop.events, loop.hub.sensors.counts["replayed"], scanner.scans,
            scanner.errors]


def _scanning():
    # The scan aioble is running, in either aioble.
    central = getattr(aioble, "central", aioble)
    return central._active_scanner


def case_busy_street_holds_no_result_per_address():
    # 300 passers-by's phones, each a new address, among the door's adverts:
    # aioble would keep a result for each for the scan's 30 s (190 B apiece on
    # the board); the hub's Scanner leaves it none it has delivered.
    loop = _Loop()
    scanner = Scanner(loop.deliver, lambda: loop.now)
    held = []

    async def run():
        task = asyncio.create_task(scanner.run())
        while scanner.started is None:
            await asyncio.sleep_ms(1)
        for n in range(300):
            _advert("5A:%02X:%02X:00:00:01" % (n >> 8, n & 0xFF), b"\x40\x01\x64")
            if n % 30 == 0:
                _advert(DOOR, _door(n // 30 & 1, 100 + n))
                await asyncio.sleep_ms(2)
        for _ in range(500):
            await asyncio.sleep_ms(1)
            if len(loop.delivered) >= 310:
                break
        held.append(len(_scanning()._results))
        loop.hub.step(loop.now + 10)
        task.cancel()
        await asyncio.sleep_ms(0)
    asyncio.run(run())
    return [held[0] <= 1, len(loop.delivered), loop.hub.sensors.counts["unknown"] > 0,
            scanner.errors]


def main(names):
    for name in names:
        _sim.adverts[:] = []
        try:
            out = [name, globals()["case_" + name](), ""]
        except Exception as e:
            out = [name, None, "%s: %s" % (type(e).__name__, e)]
        print(json.dumps(out))

