# Runs under the host micropython with tools/shims on the path (see
# test_aioble_shim.py): the aioble shim hands out its queue as the real
# aioble does, and the firmware's scanner and hub loop cope with it.
import asyncio
import binascii
import _sim
import aioble
from radio import bthome
from radio import bthome_encode
from radio.scanner import Scanner

DOOR = "3C:2E:F5:00:00:01"
OTHER = "3C:2E:F5:00:00:02"
KEY = bytes(range(16))


def _advert(mac, data, rssi=-60):
    # What the simulation's socket delivers: one advert heard by the radio.
    _sim.adverts.append({"mac": mac, "data": binascii.hexlify(data).decode(), "rssi": rssi})


def _door(value, counter):
    return bthome_encode.encode([("packet_id", counter & 0xFF), ("door", value)], DOOR, KEY, counter)


async def _collect(duration_ms):
    got = []
    async with aioble.scan(duration_ms) as scanner:
        async for result in scanner:
            got.append((result, result.device.addr, result.adv_data, result.rssi))
    return got


def test_queued_results_come_out_newest_first():
    _advert(DOOR, b"\x40\x1a\x01")
    _advert(OTHER, b"\x40\x21\x01")
    _advert(DOOR, b"\x40\x1a\x00")
    got = asyncio.run(_collect(5))
    assert [(bthome.format_mac(a), d[-2:]) for r, a, d, s in got] == [
        (DOOR, b"\x1a\x00"), (OTHER, b"\x21\x01"), (DOOR, b"\x1a\x01")]


def test_one_scan_result_per_device_updated_in_place():
    _advert(DOOR, b"\x40\x1a\x01")
    _advert(DOOR, b"\x40\x1a\x00")
    got = asyncio.run(_collect(5))
    assert got[0][0] is got[1][0]
    assert got[1][0].adv_data[-1] == 0x01     # the object now holds the last one popped


def test_an_identical_repeat_is_swallowed_a_new_rssi_is_not():
    _advert(DOOR, b"\x40\x1a\x01", -60)
    _advert(DOOR, b"\x40\x1a\x01", -60)
    _advert(DOOR, b"\x40\x1a\x01", -70)
    got = asyncio.run(_collect(5))
    assert [s for r, a, d, s in got] == [-70, -60]


def test_nothing_is_queued_outside_a_scan():
    aioble.scan_result_irq(0, b"\x00" * 6, 3, -60, b"\x02\x01\x06")
    assert asyncio.run(_collect(3)) == []


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
        self.hub.presence = self
        self.now = 1000

    def zone(self, zone, event):
        if event != "checkin":
            self.events.append(event)

    def sensor(self, s):
        pass

    def status(self, now, fn):
        pass

    async def run(self, scanner, adverts):
        task = asyncio.create_task(scanner.run())
        for batch in adverts:
            for mac, data in batch:
                _advert(mac, data)          # heard while the loop was busy
            await asyncio.sleep_ms(5)       # the scan task drains aioble's queue
            self.now += 10
            self.hub.step(self.now)
        task.cancel()


def test_door_opened_and_closed_during_a_loop_stall_reaches_the_panel():
    loop = _Loop()
    scanner = Scanner(loop.hub.advert, lambda: loop.now)
    asyncio.run(loop.run(scanner, [[(DOOR, _door(1, 10))], [(DOOR, _door(0, 11))],
                                   [(DOOR, _door(1, 12)), (DOOR, _door(0, 13))]]))
    assert loop.events == ["open", "close", "open", "close"]
    assert loop.hub.sensors.counts["replayed"] == 0
