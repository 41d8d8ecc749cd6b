# Bring the hub up from config.json and board.json, resume the saved state, and
# run. A config that does not validate never leaves the hub silently unarmed:
# it boots into a trouble state that says why on the console, blinks the LED
# and beeps the keypad until the config is fixed.
import asyncio
import json
import os
import time

from panel.config import Config, ConfigError
from panel.panel import Panel
from hub.settings import HubSettings, Board
from hub.store import Store
from hub.hub import Hub

CAUSES = {1: "power_on", 2: "hard_reset", 3: "watchdog", 4: "deep_sleep", 5: "soft_reset"}
WDT_MS = 8000


def read_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read())
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
    settings = HubSettings(raw)
    board.check_inputs(settings.wired, settings.wired_fields)
    for zone, _ in settings.wired:
        if cfg.zones.index(zone) < 0:
            raise ConfigError("zones", "wired zone %r unknown" % (zone,))
    store = Store(root + "data")
    fingerprint = users_fingerprint(raw.get("users", []))
    saved_users = store.load("users")
    if saved_users and saved_users.get("config") == fingerprint:
        cfg.codes.load(saved_users["codes"])   # codes changed at the keypad since

    from drivers.keypad_scan import KeypadScanner
    from drivers.inputs import WiredInputs
    from drivers import outputs
    from radio.sensors import Sensors
    from uplink.outbox import Outbox, FileStore
    Pin = machine.Pin
    rows = [Pin(p, Pin.OUT, value=1) for p in board.rows]
    cols = [Pin(p, Pin.IN, Pin.PULL_UP) for p in board.cols]
    keypad = KeypadScanner(rows, cols, board.keymap)
    wired = WiredInputs([(z, Pin(p, Pin.IN, Pin.PULL_UP)) for z, p in settings.wired])
    siren = buzzer = led = None
    if board.siren:
        siren = outputs.PatternOutput(Pin(board.siren[0], Pin.OUT), outputs.SIREN,
                                      outputs.SIREN_ONCE, board.siren[1])
    if board.buzzer:
        buzzer = outputs.PatternOutput(Pin(board.buzzer[0], Pin.OUT), outputs.BUZZER,
                                       outputs.BUZZER_ONCE, board.buzzer[1])
    if board.led:
        led = outputs.PatternOutput(Pin(board.led[0], Pin.OUT), outputs.LED, None, board.led[1])
    sensors = Sensors()
    for mac, zone, ztype, key, objects in settings.sensors:
        sensors.add(mac, zone, ztype, key, objects)
    sensors.restore_counters(store.load("sensors", {}))

    now = time.ticks_ms() & 0x3FFFFFFF
    panel = Panel(cfg, now)
    outbox = Outbox(FileStore(root + "data/outbox"))
    queued = outbox.seqs()
    if queued:
        panel.seq = max(queued)   # seqs never repeat, even if the panel file is older
    panel.restore(store.load("panel", {}), now, CAUSES.get(machine.reset_cause(), "reset"))
    from uplink.clock import Clock
    wall = Clock(ntp_host=settings.ntp)
    link = _link(settings, outbox, wall)
    if link is not None:
        link.watermark = store.load("link", {}).get("cmd_id", 0)
    hub = Hub(panel, store, keypad=keypad, wired=wired, sensors=sensors, siren=siren,
              buzzer=buzzer, led=led, link=link, outbox=outbox, clock=wall.now, wallclock=wall)
    hub.users_fingerprint = fingerprint
    hub.announce(settings.discovery_prefix if settings.discovery else None,
                 settings.mqtt_prefix, settings.hub_id, settings.test_interval * 1000)
    hub.settle(now)    # the restart signal and resumed state are on flash at once
    return hub, settings, board


def _link(settings, outbox, wall):
    try:
        from uplink.link import Link
    except ImportError:
        return None
    return Link(outbox, settings.hub_id, settings.secret, settings.mqtt_host,
                port=settings.mqtt_port, prefix=settings.mqtt_prefix,
                user=settings.mqtt_user, password=settings.mqtt_password,
                keepalive_s=settings.keepalive, clock=wall)


def _wifi(settings):
    if not settings.wifi_ssid:
        return
    import network
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected():
        wlan.connect(settings.wifi_ssid, settings.wifi_password)   # returns at once


async def _main(hub, machine):
    from radio.scanner import Scanner
    hub.wdt = machine.WDT(timeout=WDT_MS)
    hub.radio = Scanner(hub.advert, lambda: time.ticks_ms() & 0x3FFFFFFF)
    asyncio.create_task(hub.radio.run())
    await hub.run(time.ticks_ms)


def safe_mode(error, root=""):
    # No alarm logic can run on a config we could not read: say so, loudly
    # and forever, on the console, the LED and the keypad buzzer.
    import machine
    print(json.dumps({"trouble": "config", "field": getattr(error, "field", "?"),
                      "error": str(error)}))
    led = buzzer = None
    try:
        from drivers import outputs
        board = Board(read_json(root + "board.json"))
        if board.led:
            led = outputs.PatternOutput(machine.Pin(board.led[0], machine.Pin.OUT),
                                        outputs.LED, None, board.led[1])
        if board.buzzer:
            buzzer = outputs.PatternOutput(machine.Pin(board.buzzer[0], machine.Pin.OUT),
                                           outputs.BUZZER, outputs.BUZZER_ONCE, board.buzzer[1])
    except ConfigError:
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
            print(json.dumps({"trouble": "config", "error": str(error)}))
        n += 1
        time.sleep_ms(10)


def start(root=""):
    import machine
    try:
        hub, settings, board = build(root, machine)
    except ConfigError as e:
        safe_mode(e, root)
        return
    _wifi(settings)
    print(json.dumps({"boot": settings.hub_id, "board": board.name, "state": hub.panel.state,
                      "queued": len(hub.outbox) if hub.outbox is not None else 0}))
    settings = board = None   # read once; their heap is the loop's from here on
    asyncio.run(_main(hub, machine))
