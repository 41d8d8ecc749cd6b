"""One running system: private mosquitto, the real hub firmware under the
host micropython (HubSim), the monitoring endpoint in this process, the app.

Every observable event becomes an Event(kind, obj, received) in `events`;
`clock` maps both sides to story time. Inputs are thread-safe."""
import collections
import os
import threading
import time

from monitor.store import Store
from tools.broker import Broker
from tools.hubsim import HubSim
from tools.sim import demo
from tools.sim import callee
from tools.sim.app import App
from tools.sim.clock import FastClock, StoryClock
from tools.sim.sensors import Sensors

Event = collections.namedtuple("Event", "source obj received")
# Real ms a key stays down and up: the scanner needs 3 stable scans of its
# 10 ms loop, whatever the speed.
KEY_MS = 45
# A person's next key comes within the keypad's 5 s entry timeout of real time:
# each key from the page keeps hub time at real speed this long.
PERSON_MS = 6000
DEBOUNCE_MS = 35


class World:
    def __init__(self, workdir, config, account, speed=1, calls="auto", listener=None,
                 secure=True, ring_s=None):
        """calls: "auto", the automatic callee answers as the story scripts it;
        "console", a person does (the page, the operator console).
        secure: the broker takes TLS and a login per client, with the ACL.
        ring_s: the service's ring timeout on its fast clock (default: its own 30 s)."""
        self.workdir = workdir
        self.config = config
        self.account = account
        self.speed = speed
        self.calls = calls
        self.ring_s = ring_s
        self.person_until = 0.0           # monotonic s: hub time at real speed until then
        self.on_person = None             # fn(start, end) told of each real-speed window
        self.listener = listener          # fn(Event), called on reader threads
        # The broker as an install runs it (TLS, a login per client, the ACL),
        # unless a caller wants the bare one.
        self.secure = secure
        self.clock = StoryClock(speed)
        self.sensors = Sensors(config)
        self.events = []
        self.trouble = None               # the hub's line when it refused its config
        self._lock = threading.Lock()     # one input at a time on the hub's channel
        self._elock = threading.Lock()
        self.broker = self.hub = self.monitor = self.app = None
        self.monitor_clock = None
        self._scripts = None              # the world's own store connection, for callee scripts
        self._script_lock = threading.Lock()
        self._stopping = False

    # ---- life cycle ----

    def start(self, boot_timeout=30):
        from monitor import Receiver, Settings
        os.makedirs(self.workdir, exist_ok=True)
        hub_id = self.config["hub_id"]
        prefix = self.config.get("mqtt", {}).get("prefix", "alarm")
        self.broker = Broker(os.path.join(self.workdir, "mosquitto"),
                             hubs=[hub_id] if self.secure else None, prefix=prefix).start()
        mqtt = dict(self.config.get("mqtt", {}), host="127.0.0.1", port=self.broker.port)
        login = {}
        if self.secure:
            access = self.broker.access
            mqtt.update(tls=True, ca=access.ca_pem(), password=access.password(hub_id))
            mqtt.pop("user", None)
            login = dict(tls_ca=access.ca, username="monitor",
                         password=access.password("monitor"))
        self.config = dict(self.config, mqtt=mqtt)
        db = os.path.join(self.workdir, "monitor.db")
        demo.add_account(db, self.account)
        provider = None
        if self.calls == "auto":
            self._scripts = Store(db)
            callee.prepare(self._scripts)
            provider = callee.AutomaticCallee()
        # The service runs on a clock as fast as the hub's: its 30 s ring and a
        # contact's 2 s pick-up take the same story time at any speed.
        self.monitor_clock = FastClock(self.speed)
        if self.ring_s is not None:
            login["ring_s"] = self.ring_s
        self.monitor = Receiver(Settings(db=db, port=self.broker.port_for("monitor"),
                                         prefix=prefix, **login),
                                emit=self._monitor_line, provider=provider,
                                clock=self.monitor_clock)
        self.monitor.start(timeout=boot_timeout)
        # The hub's clock is the monitor's wall time (adopted from its signed
        # acks, monitor.clock unix_s), so the app signs commands with the wall time.
        self.app = App(self.broker.port, hub_id, self.config["secret"], prefix,
                       auth=lambda c: self.broker.client_auth(c, "homeassistant"))
        # Wired loops closed before the hub's first scan: a loop it finds open
        # at boot is a real open zone (and the tamper switch an alarm).
        self.hub = HubSim(os.path.join(self.workdir, "hub"), self.config, speed=self.speed,
                          levels={pin: 0 for pin in self.sensors.wired_pins()})
        self.hub.start(timeout=boot_timeout)
        threading.Thread(target=self._watch_hub, daemon=True).start()
        boot = self.hub.wait_for(lambda o: "boot" in o or "trouble" in o, timeout=boot_timeout)
        if "trouble" in boot:
            self.trouble = boot
            return self
        self.app.wait_online(boot_timeout)
        return self

    def begin(self, in_s=0.0):
        """Story time 0 is `in_s` real seconds from now."""
        self.clock.start(in_s)

    def typing_ms(self, text):
        """Story ms from the first key going down until the last one goes down
        (the scanner counts it a scan or two later, so never before)."""
        return int((len(text) - 1) * 2 * KEY_MS * self.speed)

    def stop(self):
        self._stopping = True
        if self._scripts is not None:
            self._scripts.close()
        for part in (self.monitor, self.app, self.hub, self.broker):
            if part is not None:
                try:
                    part.stop()
                except Exception:   # keep stopping the others: leave nothing behind
                    pass

    # ---- what happens ----

    def _record(self, source, obj):
        ev = Event(source, obj, time.monotonic())
        with self._elock:
            self.events.append(ev)
        if self.listener is not None:
            self.listener(ev)

    def _watch_hub(self):
        # wait_for wakes on every new line, so each one is stamped as it arrives.
        i = 0
        while not self._stopping:
            try:
                line = self.hub.wait_for(lambda o: True, timeout=3600, start=i)
            except AssertionError:
                if self.hub.proc is not None and self.hub.proc.poll() is not None:
                    self._record("hub", {"exited": self.hub.proc.returncode})
                    return
                continue
            i += 1
            received = time.monotonic()
            if "ticks" in line:
                self.clock.hub_sample(line["ticks"], received)
            if "trouble" in line and self.trouble is None:
                self.trouble = line
            self._record("hub", line)

    def _monitor_line(self, line):
        self._record("monitor", line)

    def story_t(self, ev):
        """Story ms of an event, or None when it has no time of its own."""
        if ev.source == "hub":
            return self.clock.from_ticks(ev.obj["ticks"]) if "ticks" in ev.obj else None
        if "t" not in ev.obj:
            return None
        return self.clock.from_wall_ms(self.monitor_clock.wall_ms(ev.obj["t"]))

    def story_line(self, ev):
        """The event as a story output line: t, source, then its own fields."""
        out = {"t": self.story_t(ev), "source": ev.source}
        for k, v in ev.obj.items():
            if k not in ("t", "ticks"):
                out[k] = v
        return out

    # ---- inputs ----

    def keys(self, text, person=False):
        """person: typed by a person at the page, who types at a person's pace
        whatever the speed: the hub's time runs at real speed meanwhile."""
        with self._lock:
            if person:
                self._person(PERSON_MS)
            self.hub.keys(text, press_ms=KEY_MS, gap_ms=KEY_MS)

    def hold(self, keys, ms):
        # Held for `ms` of hub time once the scanner has seen the keys settle.
        with self._lock:
            self.hub.hold(list(keys), ms / self.speed + DEBOUNCE_MS)

    def down(self, keys, person=False):
        with self._lock:
            if person:
                self._person(PERSON_MS)
            self.hub.down(list(keys))

    def person(self, ms, shrink=False):
        """Hub time at real speed for at least the next `ms` real ms: a person
        must act within it (types a code, answers an entry delay). shrink: for
        exactly `ms` (what they had to act within is over)."""
        with self._lock:
            self._person(ms, shrink)

    def _person(self, ms, shrink=False):
        # A window grows, never shrinks by itself: a key typed in the entry delay
        # leaves the rest of the delay at real speed (the shim sets its end anew).
        now = time.monotonic()
        until = now + ms / 1000.0 if shrink else max(self.person_until, now + ms / 1000.0)
        self.person_until = until
        self.hub.person(int((until - now) * 1000))
        if self.on_person is not None:
            self.on_person(now, until)

    def up(self):
        with self._lock:
            self.hub.up()

    def zone(self, ref, event):
        what = self.sensors.input_for(ref, event)
        with self._lock:
            if what[0] == "level":
                self.hub.level(what[1], what[2])
            else:
                self.hub.advert(what[1], what[2])
        return what

    def command(self, cmd):
        self.app.command(cmd)

    def callee(self, script):
        if self._scripts is None:
            raise ValueError("a person takes the calls in this run: there is no callee to script")
        with self._script_lock:
            callee.set_script_json(self._scripts, script)

    def pins(self):
        """{siren|buzzer|led: {"pin", "level", "toggles"}} as the hub drives them now;
        toggles: changes in the last real second (a blinking pattern)."""
        now = time.monotonic()
        log = self.hub.pin_log
        recent = []
        i = len(log) - 1
        while i >= 0 and now - log[i][0] < 1.0:     # newest first; the log only grows
            recent.append((log[i][1], log[i][2]))
            i -= 1
        out = {}
        for name in ("siren", "buzzer", "led"):
            spec = self.hub.board.get(name)
            if not spec:
                continue
            pin = spec["pin"]
            out[name] = {"pin": pin, "level": self.hub.pin(pin),
                         "toggles": sum(1 for p, _ in recent if p == pin)}
        return out
