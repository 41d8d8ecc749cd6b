# Host shim of MicroPython's `machine` for ESP32: the same names and call
# signatures, wired to the simulation through _sim.
import utime
import _sim

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


def reset_cause():
    import os
    return int(os.getenv("SIM_RESET_CAUSE") or PWRON_RESET)


def unique_id():
    return b"\x24\x0a\xc4\x00\x00\x01"


def reset():
    _sim.send({"reset": True})
    raise SystemExit(3)


def idle():
    pass


def freq(*args):
    return 240000000


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        if value is not None:
            self.value(value)

    def init(self, mode=-1, pull=-1, value=None):
        self.__init__(self.id, mode, pull, value)

    def value(self, v=None):
        if v is None:
            if self.mode == Pin.OUT:
                return _sim.driven.get(self.id, 0)
            return _sim.read(self.id, 1 if self.pull == Pin.PULL_UP else 0)
        v = 1 if v else 0
        if _sim.driven.get(self.id) != v:
            _sim.driven[self.id] = v
            if self.mode == Pin.OUT:
                _sim.send({"pin": self.id, "value": v})
        if not v:
            _sim.driven_low(self.id)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3):
        # Present for signature parity; the firmware scans instead (ESP32
        # pin IRQs are soft with an 8-deep queue).
        return None


class PWM:
    def __init__(self, pin, freq=1000, duty_u16=0):
        self.pin = pin
        self._freq = freq
        self.duty_u16(duty_u16)

    def freq(self, f=None):
        if f is None:
            return self._freq
        self._freq = f

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        self._duty = d
        self.pin.value(1 if d else 0)

    def deinit(self):
        self.duty_u16(0)


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.fed = utime.ticks_ms()
        _sim.send({"wdt": "start", "timeout": timeout})

    def feed(self):
        self.fed = utime.ticks_ms()


class RTC:
    # The board's real-time clock: at the epoch after every boot until set.
    def __init__(self, id=0):
        pass

    def datetime(self, dt=None):
        import time
        if dt is None:
            t = time.gmtime()
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
        time.set_rtc(time.mktime((dt[0], dt[1], dt[2], dt[4], dt[5], dt[6], 0, 0)))

    def init(self, dt):
        self.datetime(dt)
