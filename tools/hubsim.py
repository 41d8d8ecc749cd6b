"""Run the real hub firmware under the host `micropython`, with the shims in
tools/shims standing in for the board, and drive it like a person would:
press keys on the matrix, open wired loops, send BLE adverts, read the siren.

    sim = HubSim(workdir, config)      # config: dict for config.json
    sim.start()
    sim.keys("1234A")
    sim.wait_for(lambda o: o.get("state") == "arming")
    sim.pin(board_siren_pin)            # 1 while the siren sounds
    sim.stop()
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from tools import aioble_real, paths

SHIMS = os.path.join(paths.ROOT, "tools", "shims")
HOST_LIB = os.path.join(paths.BUILD, "host-lib")
BOARDS = os.path.join(paths.ROOT, "boards")


class HubSim:
    def __init__(self, workdir, config=None, board="esp32_devkitc", speed=1, ticks_start=None,
                 reset_cause=None, firmware=None, levels=None):
        self.workdir = workdir
        self.config = config
        # board: a file's name in boards/, or a board of one's own (a dict), as
        # an installer's wiring adds to it (a mains sense).
        self.board_name = board if isinstance(board, str) else None
        if self.board_name is None:
            self.board = board
        else:
            with open(os.path.join(BOARDS, board + ".json")) as f:
                self.board = json.load(f)
        self.speed = speed
        self.ticks_start = ticks_start
        self.reset_cause = reset_cause
        self.firmware = firmware or paths.FIRMWARE
        # Input levels from power-on ({pin: 0|1}): loops wired before the board starts.
        self.levels = dict(levels or {})
        self._contacts_id = 0
        self._scanned = 0        # the last contacts id the keypad scanner has acted on
        self.proc = None
        self.lines = []          # JSON objects the hub printed, in order
        self.raw = []            # every stdout line, for failure messages
        self.pins = {}           # output pin -> last level
        self.pin_log = []        # (monotonic s, pin, level)
        self._cond = threading.Condition()
        self._conn = None
        self._contacts = []

    # ---- life cycle ----

    def start(self, timeout=20):
        os.makedirs(self.workdir, exist_ok=True)
        if self.config is not None:
            with open(os.path.join(self.workdir, "config.json"), "w") as f:
                json.dump(self.config, f)
        if self.board_name is None:
            with open(os.path.join(self.workdir, "board.json"), "w") as f:
                json.dump(self.board, f)
        else:
            shutil.copy(os.path.join(BOARDS, self.board_name + ".json"),
                        os.path.join(self.workdir, "board.json"))
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(timeout)
        env = paths.micropython_env(SHIMS, HOST_LIB)
        # The board's aioble where a micropython-lib tree is at hand, else its stand-in.
        real, _ = aioble_real.source()
        env["MICROPYPATH"] = ":".join(aioble_real.micropython_path(real)
                                      + [HOST_LIB, self.firmware, ".frozen"])
        env["SIM_PORT"] = str(server.getsockname()[1])
        env["SIM_SPEED"] = str(self.speed)
        if self.ticks_start is not None:
            env["SIM_TICKS_START"] = str(self.ticks_start)
        env["SIM_QUIET"] = ",".join(str(p) for p in self.board["keypad"]["rows"])
        env["SIM_SCAN_PIN"] = str(self.board["keypad"]["rows"][0])
        env["SIM_LEVELS"] = ",".join("%d=%d" % kv for kv in sorted(self.levels.items()))
        if self.reset_cause:
            env["SIM_RESET_CAUSE"] = str(self.reset_cause)
        self.lines = []
        self.raw = []
        self.proc = subprocess.Popen([paths.venv_tool("micropython"), "-c", "import main"],
                                     cwd=self.workdir, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._read_stdout, args=(self.proc,), daemon=True).start()
        try:
            self._conn, _ = server.accept()
        finally:
            server.close()
        self._conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._read_sim, args=(self._conn,), daemon=True).start()
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._close()

    def kill(self):
        """Pull the plug: SIGKILL, no chance to finish anything."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self._close()

    def _close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- the world around the hub ----

    def _send(self, obj):
        self._conn.sendall((json.dumps(obj) + "\n").encode())

    def _key_contact(self, key):
        kp = self.board["keypad"]
        for r, row in enumerate(kp["keys"]):
            c = row.find(key)
            if c >= 0:
                return [kp["rows"][r], kp["cols"][c]]
        raise ValueError("no key %r on this keypad" % key)

    def down(self, keys):
        """Hold these keys down (until up())."""
        self._set_contacts([self._key_contact(k) for k in keys])

    def up(self):
        self._set_contacts([])

    def _set_contacts(self, contacts, for_ms=None):
        self._contacts = contacts
        self._contacts_id += 1
        msg = {"contacts": contacts, "id": self._contacts_id}
        if for_ms is not None:
            msg["for_ms"] = for_ms
        self._send(msg)
        return self._contacts_id

    def keys(self, text, press_ms=0, gap_ms=0, timeout=10):
        """Type keys one after another: each key is held until the hub's
        scanner has taken it (and at least press_ms), then released until the
        scanner has seen it up (and at least gap_ms). Waiting for the scans, not
        for a time: a loaded machine may scan less often than a person holds a
        key, and with SIM_SPEED the keypad's idle timeout (5 s of hub time) is
        only 5/N real seconds between two presses."""
        for k in text:
            self.down(k)
            time.sleep(press_ms / 1000)
            self.wait_scanned(timeout)
            self.up()
            time.sleep(gap_ms / 1000)
            self.wait_scanned(timeout)

    def wait_scanned(self, timeout=10):
        """Wait until the keypad scanner has acted on the keys last put down or up."""
        want = self._contacts_id
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._scanned < want:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc is not None and self.proc.poll() is not None):
                    raise AssertionError("the hub never scanned the keys %r:\n%s"
                                         % (self._contacts, "\n".join(self.raw[-20:])))
                self._cond.wait(min(left, 0.2))

    def hold(self, keys, ms):
        """Hold keys for `ms` real ms: the hub lets them go itself after `ms` x
        speed of its own time, so a late "up" (a busy machine) cannot make the
        hold it sees longer, and a short hold stay short."""
        self._set_contacts([self._key_contact(k) for k in keys], for_ms=int(ms * self.speed))
        time.sleep(ms / 1000)
        self.up()

    def person(self, ms):
        """A person is at the keypad: hub time at real speed for `ms` real ms,
        so a person's pace fits the keypad's timeouts at any speed."""
        self._send({"person_ms": int(ms)})

    def level(self, pin, value):
        """Set an input pin's level (a wired loop: 0 closed, 1 open or cut)."""
        self._send({"level": {str(pin): value}})

    def advert(self, mac, data_hex, rssi=-60):
        """Deliver one BTHome service-data payload from `mac` to the hub's radio."""
        self._send({"advert": {"mac": mac, "data": data_hex, "rssi": rssi}})

    def burst(self, adverts, rssi=-60):
        """Several (mac, data_hex) heard at once, in this order, as while the hub's
        loop was busy: the radio queues them all before the loop sees any."""
        self._conn.sendall("".join(json.dumps({"advert": {"mac": m, "data": d, "rssi": rssi}})
                                   + "\n" for m, d in adverts).encode())

    def pin(self, number):
        return self.pins.get(number, 0)

    @property
    def siren_pin(self):
        return self.board["siren"]["pin"]

    # ---- what the hub says ----

    def _read_stdout(self, proc):
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._cond:
                self.raw.append(line)
                if line.startswith("{"):
                    try:
                        self.lines.append(json.loads(line))
                    except ValueError:
                        pass
                self._cond.notify_all()

    def _read_sim(self, conn):
        buf = b""
        while True:
            try:
                chunk = conn.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                with self._cond:
                    if "scanned" in msg:
                        self._scanned = max(self._scanned, msg["scanned"])
                    if "pin" in msg:
                        self.pins[msg["pin"]] = msg["value"]
                        self.pin_log.append((time.monotonic(), msg["pin"], msg["value"]))
                    self._cond.notify_all()

    def wait_for(self, pred, timeout=10, start=0):
        """The first printed object (from index `start`) that satisfies pred."""
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc is not None and self.proc.poll() is not None
                                 and i >= len(self.lines)):
                    raise AssertionError("hub never printed the expected line; it printed:\n"
                                         + "\n".join(self.raw[-40:]))
                self._cond.wait(min(left, 0.2))

    def wait_pin(self, pin, value, timeout=10):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.pins.get(pin, 0) != value:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("pin %d never became %d" % (pin, value))
                self._cond.wait(min(left, 0.2))

    def signals(self):
        with self._cond:
            return [o["signal"] for o in self.lines if "signal" in o]

    def states(self):
        with self._cond:
            return [o["state"] for o in self.lines if "state" in o]
