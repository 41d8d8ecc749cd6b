# The hub loop: every ~10 ms it reads the keypad and the wired zones, hands
# radio adverts and remote commands to the panel, plays the panel's outputs on
# the siren, buzzer and LED, queues signals on flash for the uplink, saves the
# panel's state, and feeds the watchdog only when all of that came round.
#
# step() is synchronous and takes `now` (ms ticks, 2**30 wrap), so tests drive
# it directly; run() is the asyncio shell around it on the board.
import asyncio
import json
import time
from panel.compat import const
from panel import ticks
from radio.backlog import Backlog

# A keypad event (drivers/keypad_scan.py): (kind, keys).
_KIND = const(0)
_KEYS = const(1)

_KEYPAD_SOUND = {"ok": "ok", "error": "error", "wrong_code": "error", "not_ready": "error",
                 "locked": "locked", "aborted": "ok", "bypassed": "ok", "unbypassed": "ok",
                 "user_saved": "ok", "user_deleted": "ok", "ready": "ok"}


class Hub:
    loop_ms = 10
    radio_queue = 16         # adverts waiting for the loop; more are dropped and counted
    command_queue = 8
    counters_save_ms = 10000  # sensor counters are saved at most this often when idle
    enrol_ms = 120000        # how long the hub lists unknown sensors after *8#
    radio_stall_ms = 90000   # no scan (re)started for this long: the radio task is dead
    dc09 = None              # uplink.dc09_link.Dc09 when the hub reports over DC-09 too
    heap = None              # hub.heap.Heap where the runtime reports its heap
    mains = None             # () -> True while the mains is on, on a board that senses it

    def __init__(self, panel, store, keypad=None, wired=None, sensors=None,
                 siren=None, buzzer=None, led=None, link=None, outbox=None,
                 wdt=None, log=None, clock=None, wallclock=None):
        self.panel = panel
        self.store = store
        self.keypad = keypad
        self.wired = wired
        self.sensors = sensors
        self.siren = siren
        self.buzzer = buzzer
        self.led = led
        self.link = link
        self.outbox = outbox
        self.wdt = wdt
        self.log = log or _print
        self._tls_refused = self._login_refused = 0
        self.clock = clock or time.time
        self.wallclock = wallclock      # uplink.clock.Clock: NTP polling and its report
        self.adverts = Backlog(self.radio_queue)
        self.commands = []
        self.dropped_adverts = 0
        self.dropped_commands = 0
        self.steps = 0
        self.longest_gap = 0
        self._last = None
        self._counters_dirty = False
        self._counters_saved = None
        self.users_fingerprint = None   # ties saved codes to the config they came from
        self.damaged = None             # hub files damaged at boot: name -> records lost
        self.presence = None            # what the broker shows of the hub, once announced
        self.test_every_ms = None       # periodic test signal (E602)
        self._next_test = None
        self._enrol_end = None
        self.radio = None               # the Scanner, when the radio task runs
        self.wake = None                # asyncio.Event, set by inputs from other tasks
        if link is not None:
            link.on_command = self.command
            link.on_watermark = self._save_watermark
            link.state = panel.state
        if led is not None:
            led.play(panel.state, panel.now)

    # ---- called from other tasks and callbacks: queue only ----

    def advert(self, mac, data, rssi):
        if not self.sensors.wanted(mac):
            return
        if not self.adverts.put(mac, data, rssi):
            self.dropped_adverts += 1
            return
        if self.wake is not None:
            self.wake.set()     # a door opening should not wait out the loop's sleep

    def command(self, cmd):
        if len(self.commands) >= self.command_queue:
            self.dropped_commands += 1
            return
        self.commands.append(cmd)

    def _save_watermark(self, cid):
        # Verified command ids only grow; keep the last one across reboots so
        # a captured command cannot be replayed after a power cut.
        self.store.save("link", {"cmd_id": cid})

    def announce(self, discovery_prefix, prefix, hub_id, test_every_ms):
        self.test_every_ms = test_every_ms
        if self.link is not None:
            from hub.presence import Presence
            self.presence = Presence(self.link, self.panel.zones, discovery_prefix, prefix,
                                     hub_id, None if self.mains is None else self.panel.ac.lost)

    # ---- the loop ----

    def step(self, now):
        if self._last is not None:
            gap = ticks.diff(now, self._last)
            if gap > self.longest_gap:
                self.longest_gap = gap
        self._last = now
        p = self.panel
        if self.keypad is not None:
            for ev in self.keypad.poll():
                kind = ev[_KIND]
                if kind == "press":
                    if self.buzzer is not None:
                        self.buzzer.play("click", now)
                    p.press(now, ev[_KEYS])
                elif kind == "hold":
                    p.hold(now, ev[_KEYS])
                else:
                    p.release(now)
        if self.wired is not None:
            for zone, event in self.wired.poll(now):
                self._zone(now, zone, event)
        if self.mains is not None:
            lost = p.ac.lost
            p.mains(now, self.mains())
            if p.ac.lost != lost and self.presence is not None:
                self.presence.mains(p.ac.lost)
        for mac, data, rssi in self.adverts.take():
            self.sensors.last = None
            for zone, event in self.sensors.advert(mac, data, rssi):
                self._zone(now, zone, event)
            self._counters_dirty = True
            if self.presence is not None and self.sensors.last is not None:
                self.presence.sensor(self.sensors.last)
        if self.test_every_ms:
            if self._next_test is None:
                self._next_test = ticks.add(now, self.test_every_ms)
            elif ticks.diff(now, self._next_test) >= 0:
                self._next_test = ticks.add(now, self.test_every_ms)
                p.test_report(now)
        if self._enrol_end is not None and ticks.diff(now, self._enrol_end) >= 0:
            self._enrol_end = None
            self.sensors.enrolling = False
            self.log(now, {"enrolled": self.sensors.heard})
        if self.heap is not None:
            self.heap.poll(now, p)
        if self.presence is not None:
            self.presence.status(now, self.status)
        while self.commands:
            p.command(now, self.commands.pop(0))
            if self.presence is not None:
                self.presence.answer(p.refusal)
        p.tick(now)
        outs = p.take()
        changed = self._outputs(now, outs)
        for out in (self.siren, self.buzzer, self.led):
            if out is not None:
                out.update(now)
        if self.link is not None:
            self.link.poll(now)   # new signals are already on flash: send them first
            self._report_refusals(now)
            if self.wallclock is not None:
                self.wallclock.poll_ntp(now, self.link.connected)
        if self.dc09:
            self.dc09.poll(now)   # bounded like the link's; a path that is down waits its backoff
        if changed or p.save_due:
            self.save_state()
        for o in outs:
            self.log(now, o)    # only what is already on flash is reported as done
        if self._counters_dirty and (changed or self._counters_saved is None or
                                     ticks.diff(now, self._counters_saved) >= self.counters_save_ms):
            self.store.save("sensors", self.sensors.counters())
            self._counters_saved = now
            self._counters_dirty = False
        self.steps += 1
        if self.wdt is not None and self.healthy(now):
            self.wdt.feed()

    def healthy(self, now):
        # The loop came round; the radio task must be alive too, or the
        # watchdog resets the board and the restart is reported (E305 watchdog).
        r = self.radio
        if r is None or r.started is None:
            return True
        return ticks.diff(now, r.started) < self.radio_stall_ms

    def _report_refusals(self, now):
        # A refused TLS session or login never reaches the status topic (there
        # is no session): say why on the console, once per failed connect.
        # (Called every loop pass: compares two ints, allocates nothing.)
        st = self.link.stats
        tls = st.get("tls_failures", 0)
        if tls != self._tls_refused:
            self._tls_refused = tls
            self.log(now, {"link": "tls_refused", "reason": st["tls_error"], "count": tls})
        login = st.get("refused", 0)
        if login != self._login_refused:
            self._login_refused = login
            self.log(now, {"link": "login_refused", "rc": st["refused_rc"], "count": login})

    def status(self):
        # Counters of everything dropped or refused, for the status topic.
        st = {"steps": self.steps, "loop_gap_ms": self.longest_gap,
              "dropped_adverts": self.dropped_adverts, "dropped_commands": self.dropped_commands,
              "outbox": len(self.outbox) if self.outbox is not None else 0,
              "panel_refused": self.panel.refused}
        if self.damaged:
            st["damaged"] = self.damaged
        ac = self.panel.ac
        # "lost" once E301 went out; "off" while the loss is still within its delay.
        st["mains"] = "unsupervised" if self.mains is None else \
            "lost" if ac.lost else "on" if ac.on else "off"
        if self.sensors is not None:
            st["adverts"] = self.sensors.counts
            if self.sensors.enrolling:
                st["heard"] = self.sensors.heard
        if self.link is not None:
            st["link"] = self.link.stats
        if self.wallclock is not None:
            st["clock"] = self.wallclock.report()
        if self.heap is not None:
            st["heap"] = self.heap.report()
        return st

    def _zone(self, now, zone, event):
        self.panel.zone(now, zone, event)
        if self.presence is not None:
            self.presence.zone(zone, event)

    def _outputs(self, now, outs):
        # Returns True when something that must survive a reboot changed.
        changed = False
        for o in outs:
            if "signal" in o:
                if self.outbox is not None:
                    # On flash before it is ever sent; gone only when acked.
                    self.outbox.put(o["signal"], self.clock())
                changed = True
            elif "state" in o:
                changed = True
                if self.led is not None:
                    self.led.play(o["state"], now)
                if self.link is not None:
                    self.link.state = o["state"]
            elif "siren" in o:
                if self.siren is not None:
                    self.siren.play(o["siren"], now)
            elif "buzzer" in o:
                if self.buzzer is not None:
                    self.buzzer.play(o["buzzer"], now)
            elif "keypad" in o:
                if self.buzzer is not None and o["keypad"] in _KEYPAD_SOUND:
                    self.buzzer.play(_KEYPAD_SOUND[o["keypad"]], now)
                changed = True   # bypass and user changes are kept too
            elif "log" in o:
                changed = True
                if o["log"] == "enrol" and self.sensors is not None:
                    self.sensors.enrolling = True
                    self.sensors.heard = {}
                    self._enrol_end = ticks.add(now, self.enrol_ms)
        return changed

    def settle(self, now):
        # Play and persist whatever the panel has said so far (used at boot).
        outs = self.panel.take()
        self._outputs(now, outs)
        self.save_state()
        for o in outs:
            self.log(now, o)

    def save_state(self):
        self.panel.save_due = False
        self.store.save("panel", self.panel.snapshot())
        if self.panel.codes_changed:
            self.store.save("users", {"config": self.users_fingerprint,
                                      "codes": self.panel.codes.export()})
            self.panel.codes_changed = False

    async def run(self, ticks_ms):
        self.wake = asyncio.Event()
        while True:
            self.step(ticks_ms() & 0x3FFFFFFF)
            if not self.wake.is_set():
                try:
                    await asyncio.wait_for_ms(self.wake.wait(), self.loop_ms)
                except asyncio.TimeoutError:
                    pass
            self.wake.clear()


def _print(now, item):
    # The console log: the same JSON lines as scenario replay, with hub ticks.
    body = json.dumps(item)
    print('{"ticks": %d, %s' % (now, body[1:]))
