# Runs under the host micropython with tools/shims on the path (see
# test_aioble_real.py): the bluetooth stand-in keeps the documented API of
# MicroPython's bluetooth module (docs/library/bluetooth.rst, v1.28) where
# aioble and the firmware depend on it.
import asyncio
import errno
import bluetooth

_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6


class _Events:
    def __init__(self):
        self.got = []
        self.kept = []
        bluetooth.BLE().irq(self)

    def __call__(self, event, data):
        self.got.append(event)
        if event == _IRQ_SCAN_RESULT:
            addr_type, addr, adv_type, rssi, adv_data = data
            self.kept.append((addr_type, addr, adv_type, rssi, adv_data, bytes(addr),
                              bytes(adv_data)))


def _fresh():
    ble = bluetooth.BLE()
    if ble.active():
        ble.active(False)
    ble.active(True)
    return ble, _Events()


def _raises(fn, code):
    try:
        fn()
    except OSError as e:
        assert e.errno == code, e
        return
    raise AssertionError("no OSError %d" % code)


def test_one_radio_inactive_at_first_and_refusing_until_active():
    ble = bluetooth.BLE()
    ble.active(False)
    assert bluetooth.BLE().active() is False
    _raises(lambda: ble.gap_scan(1000), errno.ENODEV)
    _raises(lambda: ble.gap_advertise(100000, b"\x02\x01\x06"), errno.ENODEV)
    bluetooth.BLE().active(True)
    assert ble.active() is True


def test_scan_results_are_memoryviews_of_a_reused_buffer():
    async def run():
        ble, ev = _fresh()
        ble.gap_scan(0, 30000, 30000, False)
        assert bluetooth.hear(0, b"\x01\x02\x03\x04\x05\x06", 3, -60, b"\x02\x01\x06")
        assert bluetooth.hear(1, b"\xaa\xbb\xcc\xdd\xee\xff", 0, -70, b"\x03\x16\xd2\xfc")
        ble.gap_scan(None)
        return ev
    ev = asyncio.run(run())
    assert ev.got == [_IRQ_SCAN_RESULT, _IRQ_SCAN_RESULT, _IRQ_SCAN_DONE]
    first, second = ev.kept
    assert type(first[1]).__name__ == "memoryview" and type(first[4]).__name__ == "memoryview"
    assert first[5] == b"\x01\x02\x03\x04\x05\x06" and first[6] == b"\x02\x01\x06"
    assert first[:1] + first[2:4] == (0, 3, -60)
    # A handler that kept the first views without copying now reads the second advert.
    assert bytes(first[1]) == b"\xaa\xbb\xcc\xdd\xee\xff"
    assert bytes(second[4]) == b"\x03\x16\xd2\xfc"


def test_every_scan_ends_with_one_scan_done():
    async def run():
        ble, ev = _fresh()
        ble.gap_scan(20)
        await asyncio.sleep_ms(80)            # the duration ends it
        done_by_time = list(ev.got)
        ble.gap_scan(0)
        _raises(lambda: ble.gap_scan(0), errno.EALREADY)
        ble.gap_scan(None)                    # stopped: raised from inside the call
        stopped = list(ev.got)
        ble.gap_scan(None)                    # nothing running: nothing raised
        return done_by_time, stopped, list(ev.got)
    done_by_time, stopped, after = asyncio.run(run())
    assert done_by_time == [_IRQ_SCAN_DONE], done_by_time
    assert stopped == [_IRQ_SCAN_DONE, _IRQ_SCAN_DONE], stopped
    assert after == stopped


def test_nothing_is_heard_outside_a_scan_and_defaults_are_the_documented_ones():
    async def run():
        ble, ev = _fresh()
        assert not bluetooth.hear(0, b"\x00" * 6, 3, -60, b"\x02\x01\x06")
        ble.gap_scan(0)
        args = bluetooth.scans()
        ble.gap_scan(None)
        return ev, args
    ev, args = asyncio.run(run())
    assert ev.got == [_IRQ_SCAN_DONE]
    assert args == (0, 1280000, 11250, False)


def test_scan_takes_positional_arguments_only():
    ble, ev = _fresh()
    try:
        ble.gap_scan(100, interval_us=30000)
    except TypeError:
        return
    raise AssertionError("keyword accepted")


def test_config_and_advertising():
    ble, ev = _fresh()
    addr_type, addr = ble.config("mac")
    assert addr_type in (0, 1) and len(addr) == 6
    ble.config(gap_name="hub")
    assert ble.config("gap_name") == "hub"
    for bad in (lambda: ble.config("nonsense"), lambda: ble.config(nonsense=1)):
        try:
            bad()
        except ValueError:
            continue
        raise AssertionError("unknown param accepted")
    ble.gap_advertise(100000, b"\x02\x01\x06", resp_data=b"\x04\x09hub")
    ble.gap_advertise(None)
    ble.active(False)
