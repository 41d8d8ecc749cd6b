# The host's stand-in for the physical world: one TCP line channel to the
# simulation (tools/hubsim.py), shared by the machine, aioble and WDT shims.
#
# In (JSON per line): {"level": {"PIN": 0|1}}   input pin levels
#                     {"contacts": [[ROW_PIN, COL_PIN], ...], "id": N}  keypad keys down
#                       with "for_ms": MS, let go after MS of hub time (a held
#                       key's length is the hub's, however late the "up" line)
#                     {"advert": {"mac": "AA:..", "data": "HEX", "rssi": -60}}
#                     {"person_ms": MS}  a person types: hub time at real speed
#                                        for MS real ms (shims/time.py)
# Out:                {"pin": N, "value": 0|1}  an output pin changed
#                     {"wdt": "start"|"expired"}
#                     {"scanned": N}  the keypad was scanned SCANS_SEEN whole
#                                     times since contacts N arrived: the hub
#                                     has debounced them and acted on them
# Without SIM_PORT in the environment nothing connects and inputs stay idle.
# SIM_LEVELS="18=0,21=0" gives input levels from the first read on, as wires
# already in place at power-on are (a loop closed only after boot would be
# read open first). SIM_SCAN_PIN is the keypad's first row: the scanner drives
# it low once per scan.
import os
import json
import socket
import utime

levels = {}          # input pin -> level from the simulation
driven = {}          # output pin -> level the firmware set
contacts = []        # [(row_pin, col_pin)] keys held down
adverts = []         # pending adverts for the aioble shim
_sock = None
_buf = b""
_last_poll = 0
_MAX_ADVERTS = 64
# The scanner needs 3 equal scans (drivers/keypad_scan.py); the step that
# saw the third has handed the keys to the panel before the next scan starts.
# One more for margin.
SCANS_SEEN = 4
_scan_pin = int(os.getenv("SIM_SCAN_PIN") or -1)
_contacts_id = None
_scans = 0
_let_go_at = None    # hub ticks at which the held keys are let go
for _kv in (os.getenv("SIM_LEVELS") or "").split(","):
    if "=" in _kv:
        levels[int(_kv.split("=")[0])] = int(_kv.split("=")[1])
# Pins whose changes the simulation does not want to hear about (keypad rows,
# which the scanner toggles every few ms).
_QUIET = [int(p) for p in (os.getenv("SIM_QUIET") or "").split(",") if p]


def _connect():
    global _sock
    port = os.getenv("SIM_PORT")
    if not port:
        return
    s = socket.socket()
    s.connect(socket.getaddrinfo("127.0.0.1", int(port))[0][-1])
    s.setsockopt(6, 1, 1)   # TCP_NODELAY: no Nagle delay on small key and advert lines
    s.setblocking(False)
    _sock = s


def send(obj):
    if _sock is None or obj.get("pin") in _QUIET:
        return
    data = (json.dumps(obj) + "\n").encode()
    while data:
        try:
            n = _sock.write(data)
        except OSError:
            n = 0
        if n:
            data = data[n:]
        else:
            utime.sleep_ms(1)


def poll(force=False):
    global _buf, _last_poll
    if _sock is None:
        return
    now = utime.ticks_ms()
    if not force and utime.ticks_diff(now, _last_poll) < 2:
        return
    _last_poll = now
    while True:
        try:
            chunk = _sock.read(4096)
        except OSError:
            chunk = None
        if not chunk:
            break
        _buf += chunk
    while b"\n" in _buf:
        line, _buf = _buf.split(b"\n", 1)
        if line.strip():
            _handle(json.loads(line))


def _handle(msg):
    global contacts, _contacts_id, _scans
    if "level" in msg:
        for k in msg["level"]:
            levels[int(k)] = msg["level"][k]
    if "contacts" in msg:
        contacts = [(r, c) for r, c in msg["contacts"]]
        _contacts_id = msg.get("id")
        _scans = 0
        _let_go(msg.get("for_ms"))
    if "advert" in msg and len(adverts) < _MAX_ADVERTS:
        adverts.append(msg["advert"])
    if "person_ms" in msg:
        import time     # the shim beside this one
        time.person(msg["person_ms"])


def driven_low(pin):
    # An output went low: when it is the keypad's first row, a scan begins.
    global _scans, _contacts_id
    if pin != _scan_pin or _contacts_id is None:
        return
    _scans += 1
    if _scans > SCANS_SEEN:
        send({"scanned": _contacts_id})
        _contacts_id = None


def _let_go(for_ms):
    global _let_go_at
    _let_go_at = None
    if for_ms is not None:
        import time     # the hub's clock: the shim beside this one
        _let_go_at = time.ticks_add(time.ticks_ms(), for_ms)


def read(pin, default):
    global contacts, _let_go_at
    poll()
    if _let_go_at is not None:
        import time
        if time.ticks_diff(time.ticks_ms(), _let_go_at) >= 0:
            contacts = []
            _let_go_at = None
    for r, c in contacts:
        if c == pin and driven.get(r, 1) == 0:
            return 0
        if r == pin and driven.get(c, 1) == 0:
            return 0
    return levels.get(pin, default)


_connect()
