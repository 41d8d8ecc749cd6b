# Bring the hub up from config.json and board.json, resume the saved state, and
# run. A config that does not validate never leaves the hub silently unarmed:
# it boots into a trouble state that says why on the console, blinks the LED
# and beeps the keypad until the config is fixed.
import asyncio
import gc
import json
import os
import time

from panel.config import Config, ConfigError
from panel.panel import Panel
from hub.settings import HubSettings, Board
from hub.store import Store
from hub.hub import Hub
from hub import recover
from panel import contact_id as CID
from panel.compat import const

# The retained keys not per zone (hub/presence.py's _OWN_KEYS: the panel's
# config, the status, the answer, the mains' state and config);
# host_tests/test_record_layouts.py holds them alike.
_RETAINED_OWN = const(5)
# Board.mains_sense: (GPIO, the level it reads while the mains is on).
_PIN = const(0)
_PRESENT = const(1)

CAUSES = {1: "power_on", 2: "hard_reset", 3: "watchdog", 4: "deep_sleep", 5: "soft_reset"}
WDT_MS = 8000


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)     # parsed as read: never the whole file in one string
    except OSError:
        raise ConfigError(path, "missing")
    except ValueError:
        raise ConfigError(path, "is not valid JSON")


def users_fingerprint(raw_users):
    import hashlib
    import binascii
    return binascii.hexlify(hashlib.sha256(json.dumps(raw_users).encode()).digest()[:8]).decode()


def build(root="", machine=None):
    # Returns (hub, settings, board); raises ConfigError naming the bad field.
    if machine is None:
        import machine
    board = Board(read_json(root + "board.json"))
    raw = read_json(root + "config.json")
    cfg = Config(raw, os.urandom)
    gc.collect()
    # Held for the retained table hub/presence.py makes last (a key per zone
    # state, attributes and discovery config, and its own, 8 bytes each): by
    # then the settings, sensors, outbox and panel have cut the heap into
    # smaller pieces. A byte short, and the table goes where it fits, or not.
    room = bytearray(8 * (3 * len(cfg.zones) + _RETAINED_OWN))
    settings = HubSettings(raw)
    board.check_inputs(settings.wired, settings.wired_fields)
    for zone, _ in settings.wired:
        if cfg.zones.index(zone) < 0:
            raise ConfigError("zones", "wired zone %r unknown" % (zone,))
    store = Store(root + "data")
    damage = {}      # file -> records lost: reported as E303 and on the status topic
    fingerprint = users_fingerprint(raw.get("users", []))
    # The parse tree (7 KB for 32 zones on a 32-bit board) is done with: the
    # hub's long-lived objects made from here on fill its holes.
    raw = None
    gc.collect()
    saved_users = recover.load(store, "users", damage)
    if saved_users and saved_users.get("config") == fingerprint:
        configured = cfg.codes.export()
        try:
            cfg.codes.load(saved_users["codes"])   # codes changed at the keypad since
        except Exception:
            # All or nothing: a code table with a user missing would lock
            # that user out silently. The config's codes are whole.
            cfg.codes.load(configured)
            recover.count(damage, "users")

    from drivers.keypad_scan import KeypadScanner
    from drivers.inputs import WiredInputs
    from radio.sensors import Sensors
    from uplink.outbox import Outbox, FileStore
    Pin = machine.Pin
    rows = [Pin(p, Pin.OUT, value=1) for p in board.rows]
    cols = [Pin(p, Pin.IN, Pin.PULL_UP) for p in board.cols]
    keypad = KeypadScanner(rows, cols, board.keymap)
    wired = WiredInputs([(z, Pin(p, Pin.IN, Pin.PULL_UP)) for z, p in settings.wired])
    siren = _out(Pin, board, "siren")
    buzzer = _out(Pin, board, "buzzer")
    led = _out(Pin, board, "led")
    sensors = Sensors()
    for mac, zone, ztype, key, objects, presses in settings.sensors:
        sensors.add(mac, zone, ztype, key, objects, presses)
        # Each add's scratch (parsed MAC, hex key) freed before the next add's
        # sensor is made: 32 sensors side by side, not spread between holes.
        gc.collect()
    # Read once: its tuples and strings, made among the config's parse tree,
    # would keep cutting the heap into pieces too small for a table.
    settings.sensors = ()
    sensors.restore_counters(recover.counters(store, damage))

    now = time.ticks_ms() & 0x3FFFFFFF
    outbox = Outbox(FileStore(root + "data/outbox"))
    recover.count(damage, "outbox", outbox.damaged)
    if outbox.epoch is None:
        # New or lost data: a new epoch, so that even a seq the monitor has
        # seen before never comes with a body it has seen before.
        outbox.set_epoch(int.from_bytes(os.urandom(4), "big") >> 2)
    panel = _resume(cfg, now, outbox.last_seq, recover.snapshot(store, damage),
                    CAUSES.get(machine.reset_cause(), "reset"), damage)
    cmd_id = recover.cmd_id(store, damage)
    if damage:
        panel.system_trouble(now, CID.MEMORY, "storage", damaged=damage)
    from uplink.clock import Clock
    wall = Clock(ntp_host=settings.ntp)
    link = _link(settings, outbox, wall)
    if link is False:
        # The config reports over MQTT but this image has no MQTT code: the
        # alarm still guards the house (and any DC-09 path still reports),
        # but the hub must say it cannot report as configured.
        link = None
        print(json.dumps({"trouble": "mqtt", "error": "no MQTT code on the board"}))
        panel.system_trouble(now, CID.COMM, "mqtt")
    elif link is not None:
        link.watermark = cmd_id
    mains = None
    if board.mains_sense:
        sense = Pin(board.mains_sense[_PIN], Pin.IN)     # the divider drives it: no pull
        present = board.mains_sense[_PRESENT]
        mains = lambda: sense.value() == present
    hub = Hub(panel, store, keypad=keypad, wired=wired, sensors=sensors, siren=siren,
              buzzer=buzzer, led=led, link=link, outbox=outbox, clock=wall.now, wallclock=wall)
    if settings.dc09:
        settings.dc09(hub, wall)     # hub/dc09.py: puts the DC-09 path on the loop
    hub.heap = heap_watch()
    hub.mains = mains
    hub.users_fingerprint = fingerprint
    hub.damaged = damage or None    # nothing damaged: no dict kept for the life of the hub
    room = None
    gc.collect()     # the retained table is made next, in the room held for it
    hub.announce(settings.discovery_prefix if settings.discovery else None,
                 settings.mqtt_prefix, settings.hub_id, settings.test_interval * 1000)
    hub.settle(now)    # the restart signal and resumed state are on flash at once
    return hub, settings, board


def heap_watch():
    # hub.heap.Heap on the runtime's own readers: gc.mem_free (after a collect
    # when low; on the ESP32 it also counts the block the IDF heap would add to
    # the GC heap on demand) and, on the ESP32, the IDF heap's largest free
    # block, which Wi-Fi, BLE and TLS allocate from. None where there is no
    # gc.mem_free (CPython); no largest block off the ESP32.
    import gc
    free = getattr(gc, "mem_free", None)
    if free is None:
        return None
    from hub.heap import Heap
    largest = None
    try:
        import esp32
        info = esp32.idf_heap_info
        cap = esp32.HEAP_DATA
        largest = lambda: max(r[2] for r in info(cap))
    except (ImportError, AttributeError):
        pass
    return Heap(free, largest, gc.collect)


def _out(Pin, board, name):
    # The board's output `name` (siren, buzzer, led) with its patterns, or None.
    from drivers import outputs as O
    o = getattr(board, name)
    if not o:
        return None
    pin, active_high = o
    name = name.upper()
    return O.PatternOutput(Pin(pin, Pin.OUT), getattr(O, name),
                           getattr(O, name + "_ONCE", None), active_high)


def _resume(cfg, now, last_seq, snap, cause, damage):
    # Seqs go on from the highest ever used: the outbox's (acked ones too)
    # or the panel file's, whichever is higher, so none is ever sent twice.
    # A snapshot the panel still cannot restore (a field this hub could not
    # vet) is tried again with the fields it knows, then with none.
    for snap in (snap, recover.known(snap), {"seq": snap.get("seq", 0)}):
        panel = Panel(cfg, now, last_seq)
        try:
            panel.restore(snap, now, cause)
            return panel
        except Exception:
            recover.count(damage, "panel")
            for i in range(len(cfg.zones)):
                cfg.zones.status[i] = 0


def _link(settings, outbox, wall):
    if settings.mqtt_host is None:
        return None     # DC-09 only (hub/dc09.py)
    try:
        from uplink.link import Link
    except ImportError:
        return False    # an image made for another config: build() reports it
    tls = None
    if settings.mqtt_tls:
        from uplink.tls import Tls      # only then: the ssl module and the CA cost heap
        tls = Tls(settings.mqtt_ca, settings.mqtt_host)
    return Link(outbox, settings.hub_id, settings.secret, settings.mqtt_host,
                port=settings.mqtt_port, prefix=settings.mqtt_prefix,
                user=settings.mqtt_user, password=settings.mqtt_password,
                keepalive_s=settings.keepalive, clock=wall, tls=tls,
                brokers=settings.mqtt_brokers)


def _wifi(settings):
    if not settings.wifi_ssid:
        return
    import network
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected():
        try:
            wlan.connect(settings.wifi_ssid, settings.wifi_password)   # returns at once
        except Exception as e:
            # Without the network the alarm still guards the house locally;
            # the monitor sees the hub offline. Say why on the console.
            print(json.dumps({"trouble": "wifi", "error": repr(e)}))


async def _main(hub, machine):
    from radio.scanner import Scanner
    hub.wdt = machine.WDT(timeout=WDT_MS)
    hub.radio = Scanner(hub.advert, lambda: time.ticks_ms() & 0x3FFFFFFF)
    asyncio.create_task(hub.radio.run())
    await hub.run(time.ticks_ms)


def safe_mode(error, root=""):
    # No alarm logic can run on a config we could not read, nor after start-up
    # failed: say so, loudly and forever, on the console, the LED and the
    # keypad buzzer. Never a bare REPL with the alarm unarmed.
    import machine
    kind = "config" if isinstance(error, ConfigError) else "boot"
    why = str(error) if kind == "config" else repr(error)
    print(json.dumps({"trouble": kind, "field": getattr(error, "field", "?"), "error": why}))
    led = buzzer = None
    try:
        board = Board(read_json(root + "board.json"))
        led = _out(machine.Pin, board, "led")
        buzzer = _out(machine.Pin, board, "buzzer")
    except Exception:           # no board file either: the console still says why
        pass
    n = 0
    while True:
        now = time.ticks_ms() & 0x3FFFFFFF
        if led is not None:
            if n == 0:
                led.play("trouble", now)
            led.update(now)
        if buzzer is not None:
            if n % 1000 == 0:
                buzzer.play("trouble", now)
            buzzer.update(now)
        if n % 1000 == 0:
            print(json.dumps({"trouble": kind, "error": why}))
        n += 1
        time.sleep_ms(10)


def start(root=""):
    import machine
    try:
        hub, settings, board = build(root, machine)
        _wifi(settings)
        print(json.dumps({"boot": settings.hub_id, "board": board.name,
                          "state": hub.panel.state, "queued": len(hub.outbox),
                          "damaged": hub.damaged}))
    except Exception as e:      # ConfigError names the field; anything else is a bug
        safe_mode(e, root)
        return
    settings = board = None   # read once; their heap is the loop's from here on
    try:
        asyncio.run(_main(hub, machine))
    except Exception as e:
        safe_mode(e, root)
