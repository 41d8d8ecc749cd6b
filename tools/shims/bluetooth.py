# Host stand-in for MicroPython's low-level `bluetooth` module, so that
# micropython-lib's real aioble runs on the host (tools/aioble_real.py). Only
# the observer role is alive: the radio hears what the simulation sends
# (_sim.adverts) and what a test hands to hear(). Signatures and events as
# documented for the board (docs/library/bluetooth.rst, v1.28):
# - BLE() is a singleton; gap_scan/gap_advertise on an inactive BLE raise
#   OSError(ENODEV), as modbluetooth does;
# - gap_scan(duration_ms, ...): 0 scans until stopped, None stops; every scan
#   ends with one _IRQ_SCAN_DONE, also when stopped (NimBLE raises it from
#   inside gap_scan(None), as here); a scan while one runs is refused with
#   EALREADY (NimBLE's ble_gap_disc);
# - _IRQ_SCAN_RESULT's addr and adv_data are memoryviews of one buffer the
#   stack reuses: a handler that keeps them without copying sees them
#   overwritten by the next advert, as it would on the board (there they are
#   read-only too; here they are writable, nothing the firmware may rely on).
# The ESP32 port delivers events synchronously from the BLE host task
# (MICROPY_PY_BLUETOOTH_USE_SYNC_EVENTS), so nothing is dropped between the
# radio and the handler: hear() calls the handler at once.
import asyncio
import binascii
import errno
import time

import _sim

_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6
_ENODEV = 19
_ADV_NONCONN_IND = 3
_MAX_ADV = 255            # extended advertising's largest payload (irq_data_data_alloc)

_state = None


class _Flag:
    # asyncio.ThreadSafeFlag's behaviour (wait() returns once set, and clears
    # it) without its cost on the unix port: there a ThreadSafeFlag is polled
    # through select.poll as an object with no file descriptor, which makes
    # every pass of the asyncio loop wait at least 1 real ms
    # (MICROPY_PY_SELECT_IOCTL_CALL_PERIOD_MS); at SIM_SPEED=20 that is 20 ms
    # of hub time, and the keypad scan misses keys. The ESP32 port polls
    # without that wait. Here every event is raised from an asyncio task,
    # never from a real interrupt, so an Event does the flag's job.
    def __init__(self):
        self._e = asyncio.Event()

    def set(self):
        self._e.set()

    def clear(self):
        self._e.clear()

    async def wait(self):
        await self._e.wait()
        self._e.clear()


asyncio.ThreadSafeFlag = _Flag      # what aioble's scan() and connections wait on


class _Radio:
    def __init__(self):
        self.active = False
        self.handler = None
        self.scanning = False
        self.scan_task = None
        self.scan_args = None     # (duration_ms, interval_us, window_us, active) of the last scan
        self.advertising = None   # (interval_us, adv_data, resp_data, connectable) or None
        self.config = {"gap_name": b"MPY ESP32", "mtu": 23, "rxbuf": 128, "addr_mode": 0,
                       "mac": (0, b"\x24\x0a\xc4\x00\x00\x01")}
        self.addr = bytearray(6)
        self.data = bytearray(_MAX_ADV)


def _radio():
    global _state
    if _state is None:
        _state = _Radio()
    return _state


def _irq(event, data):
    if _state.handler is not None:
        _state.handler(event, data)


def _must_be_active():
    if not _state.active:
        raise OSError(_ENODEV)


def _scan_done():
    if _state.scanning:
        _state.scanning = False
        _irq(_IRQ_SCAN_DONE, None)


async def _listen(duration_ms):
    # The controller's side of a scan: hears the simulation until the
    # duration is over. 1 ms is the nearest the host gets to an IRQ.
    start = time.ticks_ms()
    try:
        while _state.scanning:
            _sim.poll(force=True)
            while _sim.adverts and _state.scanning:
                a = _sim.adverts.pop(0)
                data = binascii.unhexlify(a["data"])
                # Service data AD structure: len, 0x16, UUID 0xFCD2 (LE), data.
                hear(0, binascii.unhexlify(a["mac"].replace(":", "")),
                     a.get("adv_type", _ADV_NONCONN_IND), a.get("rssi", -60),
                     bytes((len(data) + 3, 0x16, 0xD2, 0xFC)) + data)
            if duration_ms and time.ticks_diff(time.ticks_ms(), start) >= duration_ms:
                break
            await asyncio.sleep_ms(1)
    except asyncio.CancelledError:
        return
    if _state.scan_task is asyncio.current_task():
        _state.scan_task = None
        _scan_done()


def hear(addr_type, addr, adv_type, rssi, adv_data):
    """The radio hears one advert: raised as _IRQ_SCAN_RESULT while a scan
    runs, unheard otherwise. Returns whether it was raised."""
    r = _radio()
    if not (r.active and r.scanning):
        return False
    n = min(len(adv_data), _MAX_ADV)
    r.addr[:] = addr
    r.data[:n] = adv_data[:n]
    _irq(_IRQ_SCAN_RESULT, (addr_type, memoryview(r.addr), adv_type, rssi,
                            memoryview(r.data)[:n]))
    return True


def scans():
    """(duration_ms, interval_us, window_us, active) of the last gap_scan, or None."""
    return _radio().scan_args


class UUID:
    def __init__(self, value):
        if isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self._v = bytes((value & 0xFF, value >> 8))
        elif isinstance(value, str):
            h = value.replace("-", "")
            if len(h) != 32:
                raise ValueError("invalid UUID")
            self._v = bytes(reversed(binascii.unhexlify(h)))
        else:
            if len(value) not in (2, 4, 16):
                raise ValueError("invalid UUID")
            self._v = bytes(value)

    def __eq__(self, other):
        return isinstance(other, UUID) and self._v == other._v

    def __hash__(self):
        return hash(self._v)

    def __repr__(self):
        if len(self._v) == 2:
            return "UUID(0x%04x)" % (self._v[0] | self._v[1] << 8)
        return "UUID(%r)" % self._v


class BLE:
    # Every BLE() is the one radio: its state lives in the module.
    def __init__(self):
        _radio()

    def active(self, active=None):
        if active is None:
            return _state.active
        if not active:
            if _state.active:
                self.gap_scan(None)
            _state.advertising = None
        _state.active = bool(active)
        return _state.active

    def irq(self, handler):
        _state.handler = handler

    def config(self, *args, **kwargs):
        if args and kwargs or len(args) > 1:
            raise TypeError("must query one param")
        if args:
            if args[0] not in _state.config:
                raise ValueError("unknown config param")
            return _state.config[args[0]]
        for k, v in kwargs.items():
            if k not in _state.config or k == "mac":
                raise ValueError("unknown config param")
            _state.config[k] = v

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        _must_be_active()
        if interval_us is None:
            _state.advertising = None
            return
        old = _state.advertising or (None, b"", b"", True)
        _state.advertising = (interval_us, bytes(adv_data) if adv_data is not None else old[1],
                              bytes(resp_data) if resp_data is not None else old[2], connectable)

    def gap_scan(self, *args):
        # Positional only, like the C function: (duration_ms=0,
        # interval_us=1280000, window_us=11250, active=False).
        if len(args) > 4:
            raise TypeError("function takes at most 5 arguments")
        _must_be_active()
        if args and args[0] is None:
            if _state.scan_task is not None:
                _state.scan_task.cancel()
                _state.scan_task = None
            _scan_done()
            return
        if _state.scanning:
            raise OSError(errno.EALREADY)     # NimBLE refuses a second scan
        duration_ms, interval_us, window_us, active = args + (0, 1280000, 11250, False)[len(args):]
        _state.scan_args = (duration_ms, interval_us, window_us, bool(active))
        _state.scanning = True
        _state.scan_task = asyncio.create_task(_listen(duration_ms))
