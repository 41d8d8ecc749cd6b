# The alarm panel: arming modes, delays, zones, codes, alarms and the signals
# they raise. Pure: every input carries `now` (ms ticks that wrap at 2**30) and
# every effect is appended to `out` for the caller to drain with take().
#
# Output items are dicts with one of these keys:
#   state   Home Assistant's word: disarmed arming armed_home armed_away pending triggered
#   siren   steady | temporal3 | off, or a one-shot chirp1 (armed) / chirp2 (disarmed)
#   buzzer  exit | exit_fast | entry | alarm | off, or a one-shot chime / trouble
#   keypad  what the keypad shows: ok wrong_code locked ready not_ready aborted ...
#   signal  a Contact ID report for the monitoring side, numbered by `seq`
#   log     kept on the hub, never sent (an aborted alarm, a swinger shutdown)
#   error   an input the panel refused, and why
from panel.compat import const
from panel import ticks
from panel import zones as Z
from panel import contact_id as CID
from panel import codes as C
from panel.keypad import Entry
from panel.mains import Mains

DISARMED = "disarmed"
ARMING = "arming"
ARMED_HOME = "armed_home"
ARMED_AWAY = "armed_away"
PENDING = "pending"
TRIGGERED = "triggered"

MODE_WORDS = {Z.HOME: "home", Z.AWAY: "away"}
_KEPT = Z.OPEN | Z.BYPASSED | Z.SHUT_DOWN | Z.TAMPERED | Z.LOW_BATTERY | Z.LOST
SOS_ALARMS = {"police": CID.PANIC, "fire": CID.FIRE, "medical": CID.MEDICAL}
# A user's entry of panel/codes.py (who a code is): its number, name, role.
_NUMBER = const(0)
_NAME = const(1)
_ROLE = const(2)
# force_offer, the force-arm offered after a not-ready refusal: (mode, user,
# remote). Only the way it was refused takes it up: a quick arm at the keypad
# is not Home Assistant's second try.
_OFFER_MODE = const(0)
_OFFER_USER = const(1)
_OFFER_REMOTE = const(2)


class Panel:
    # Tunables (ms) that CP-01 does not leave to the installer.
    panic_hold_ms = 2000
    exit_warning_ms = 10000    # the exit beeps speed up for the last 10 s
    force_offer_ms = 10000     # press the arm key again within this to force-arm
    supervision_check_ms = 60000
    lockout_save_ms = 15000    # how stale a saved lockout's remaining time may get
    # Code hashes one keypad code change may cost (see codes.clash): 0.08 ms
    # each on the host micropython (0.13 s for the lot), est. 2-3 ms on the
    # board (~4 s), inside its 8 s watchdog.
    # A duress code checked against more users than this allows is set in the
    # config instead, where the plain codes make the check cheap.
    code_check_budget = 1600

    def __init__(self, config, now, seq=0):
        self.cfg = config
        self.zones = config.zones
        self.codes = config.codes
        self.now = now
        self.seq = seq
        self.out = []
        self.state = DISARMED     # the word shown: "triggered" while any alarm is on
        self.phase = DISARMED     # the burglary path: what a zone opening leads to
        self.emergency = 0        # CID.FIRE or CID.MEDICAL while one is on
        self.mode = 0             # Z.HOME or Z.AWAY while arming or armed
        self.armed_by = 0         # user number that armed (0: quick arm or remote)
        self.siren = "off"
        self.buzzer = "off"
        self.entry = Entry()
        self.wrong = 0            # wrong codes in a row
        self.held = []            # burglar signals held back during the abort window
        self.alarm_sent = False   # an alarm signal went out in this armed period
        self.exit_error = False
        self.entry_zone = -1
        self.remote_arm = False
        self.exit_door_opened = False
        self.exit_door_closed = False
        self.exit_restarted = False
        self.force_offer = None   # (mode, user) offered after a not-ready refusal
        self.codes_changed = False  # the hub saves the code table when set
        self.save_due = False       # the hub saves the snapshot when set (lockout progress)
        self.lockout_saved = None
        self.refused = 0            # inputs refused (bad commands, unknown zones...)
        self.refusal = None         # why the last remote command was refused; None: carried out
        # Deadlines, as ticks, or None when not running.
        self.exit_end = None
        self.exit_fast = None
        self.entry_end = None
        self.abort_end = None
        self.siren_end = None
        self.lockout_end = None
        self.hold_end = None
        self.force_end = None
        self.closed_at = None     # end of the last exit delay, for recent closing
        self.supervision_next = ticks.add(now, self.supervision_check_ms)
        self.ac = Mains(config.ac_loss_delay)
        for i in range(len(self.zones)):
            self.zones.last_seen[i] = now

    # ---- surviving a power cut ----

    def snapshot(self):
        # What must outlive a reboot, as plain JSON-able values. The hub saves
        # it whenever the state, a zone's status or the sequence changes, and
        # when save_due asks (a running lockout's progress).
        zs = self.zones
        # A lockout is kept as the ms it still has to run: the board's ticks
        # start again at boot, so an absolute tick would mean nothing then.
        left = ticks.until(self.now, self.lockout_end) if self.lockout_end is not None else 0
        return {"v": 1, "ac_lost": self.ac.lost, "state": self.phase, "emergency": self.emergency,
                "wrong": self.wrong, "lockout_ms": max(0, left),
                "mode": self.mode, "armed_by": self.armed_by, "seq": self.seq,
                "alarm_sent": self.alarm_sent, "exit_error": self.exit_error,
                "remote": self.remote_arm,
                "entry_zone": zs.numbers[self.entry_zone] if self.entry_zone >= 0 else 0,
                "held": [[q, e, zs.numbers[i] if i >= 0 else 0] for q, e, i in self.held],
                "zones": [[zs.numbers[i], zs.status[i] & _KEPT] for i in range(len(zs))
                          if zs.status[i] & _KEPT]}

    def restore(self, snap, now, cause):
        # Resume after a reboot. Pulling the plug never disarms: an exit or
        # entry delay starts again in full, an alarm sounds again, and a burglary
        # held in the abort window goes out at once. The restart is reported (E305).
        self.now = now
        zs = self.zones
        self.seq = max(self.seq, snap.get("seq", 0))
        for number, bits in snap.get("zones", []):
            i = zs.index(number)
            if i >= 0:
                zs.status[i] = bits & _KEPT
        state = snap.get("state", DISARMED)
        self.mode = snap.get("mode", 0)
        self.armed_by = snap.get("armed_by", 0)
        self.remote_arm = snap.get("remote", False)
        self.alarm_sent = snap.get("alarm_sent", False)
        self.exit_error = snap.get("exit_error", False)
        self.entry_zone = zs.index(snap.get("entry_zone", 0))
        self._restore_lockout(snap.get("wrong"), snap.get("lockout_ms"))
        # A loss reported before the reboot is owed its restore; one that was
        # not is timed afresh from the first reading (panel/mains.py).
        self.ac.lost = snap.get("ac_lost") is True
        held = []
        for q, e, number in snap.get("held", []):
            held.append((q, e, zs.index(number) if number else -1))
        self._signal("E", CID.RESTART, zone=0, name=cause)
        emergency = snap.get("emergency", 0)
        if emergency in (CID.FIRE, CID.MEDICAL):
            self._emergency(emergency)
        if state == DISARMED or self.mode not in MODE_WORDS:
            self.mode = 0
            return
        if state == ARMING:
            self._set_state(ARMING)
            self._start_exit(self.cfg.exit_delay if self.mode == Z.AWAY
                             else self.cfg.exit_delay_home)
        elif state == PENDING:
            self._set_state(ARMED_AWAY if self.mode == Z.AWAY else ARMED_HOME)
            self._start_entry(self.entry_zone if self.entry_zone >= 0 else 0)
            if self.exit_error:
                self._local_alarm()
        elif state == TRIGGERED:
            self._set_state(TRIGGERED)
            self._siren("steady")
            self.held = held
            self._release_held()
        else:
            self._set_state(state)

    def _restore_lockout(self, wrong, left):
        # A power cut gives no fresh guesses. Never longer than the configured
        # lockout, whatever the file says.
        if isinstance(wrong, int) and 0 < wrong < self.cfg.lockout_attempts:
            self.wrong = wrong
        if isinstance(left, int) and left > 0:
            self.lockout_end = ticks.add(self.now, min(left, self.cfg.lockout_time))
            self.lockout_saved = self.now

    def test_report(self, now):
        # The periodic test signal: lets monitoring tell a silent hub from a quiet one.
        self.tick(now)
        self._signal("E", CID.TEST, zone=0, name="periodic")

    def system_trouble(self, now, event, name, **extra):
        # A trouble of the hub itself (its files on flash were damaged, or
        # its image lacks a report path the config names): reported like a
        # zone trouble, with the keypad's trouble beep.
        self.now = now
        self._signal("E", event, zone=0, name=name, **extra)
        self._buzz_once("trouble")

    def system_restore(self, now, event, name, **extra):
        self.now = now
        self._signal("R", event, zone=0, name=name, **extra)

    def mains(self, now, on):
        # The mains-sense level, every pass on a board that has one. AC loss
        # is a trouble: the keypad's trouble beep, no siren, the arming as it was.
        q = self.ac.poll(now, on)
        if q == "E":
            self.system_trouble(now, CID.AC_LOSS, None)
        elif q == "R":
            self.system_restore(now, CID.AC_LOSS, None)

    # ---- draining outputs and time ----

    def take(self):
        out = self.out
        self.out = []
        return out

    def next_due(self):
        d = None
        for t in (self.hold_end, self.exit_fast, self.exit_end, self.entry_end,
                  self.abort_end, self.siren_end, self.lockout_end, self.force_end,
                  self.supervision_next):
            d = ticks.earliest(self.now, d, t)
        return d

    def tick(self, now):
        # Forget what is too old to matter, then fire every deadline that is
        # due, earliest first. See ticks.py for why this keeps every age exact.
        self.now = now
        if self.closed_at is not None \
                and ticks.since(now, self.closed_at) >= self.cfg.recent_closing:
            self.closed_at = None
        self.entry.age(now)
        if self.lockout_end is not None \
                and ticks.since(now, self.lockout_saved) >= self.lockout_save_ms:
            self.lockout_saved = now
            self.save_due = True     # a cut now resumes the lockout at most this stale
        while True:
            d = self.next_due()
            if not ticks.due(now, d):
                return
            if d == self.hold_end:
                self.hold_end = None
                self._alarm(CID.PANIC, name="keypad")
            elif d == self.exit_fast:
                self.exit_fast = None
                self._buzz("exit_fast")
            elif d == self.exit_end:
                self._exit_ends()
            elif d == self.entry_end:
                self.entry_end = None
                self._burglar(self.entry_zone, CID.ENTRY_EXIT)
            elif d == self.abort_end:
                self.abort_end = None
                self._release_held()
            elif d == self.siren_end:
                self.siren_end = None
                self._sound("off")
            elif d == self.lockout_end:
                self.lockout_end = None
                self._show("ready")
            elif d == self.force_end:
                self.force_end = None
                self.force_offer = None
            else:
                # From now, not from d: after a long stall, one check, not a catch-up.
                self.supervision_next = ticks.add(now, self.supervision_check_ms)
                self._supervise()

    # ---- inputs ----

    def press(self, now, key):
        self.tick(now)
        if key == "D":
            self.entry.clear()
            self._alarm(CID.PANIC, name="keypad")
            return
        if self.lockout_end is not None:
            if key in "ABC#":
                self._show_locked()
            return
        intent = self.entry.press(now, key)
        if intent is None:
            return
        # An intent is its kind, then that kind's arguments (panel/keypad.py).
        what = intent[0]
        if what == "panic":
            self._alarm(CID.PANIC, name="keypad")
        elif what == "error":
            self._show("error")
        elif what == "arm":
            _, mode, code = intent
            self._arm_request(mode, code, remote=False, force=False)
        elif what == "disarm":
            _, code = intent
            self._disarm_request(code, remote=False)
        else:
            _, code, rest = intent
            self._function(code, rest)

    def hold(self, now, keys):
        # Keys held down together; release() ends the hold.
        self.tick(now)
        if "D" in keys:
            self._alarm(CID.PANIC, name="keypad")
        elif "*" in keys and "#" in keys and self.hold_end is None:
            self.hold_end = ticks.add(now, self.panic_hold_ms)

    def release(self, now):
        self.tick(now)
        self.hold_end = None

    def command(self, now, cmd):
        # A remote command in Home Assistant's words. Returns False if refused,
        # and `refusal` says why to whoever sent it.
        self.tick(now)
        self.refusal = None
        if not isinstance(cmd, dict):
            return self._refuse("command must be an object")
        action = cmd.get("action")
        code = cmd.get("code") or None
        if code is not None and not isinstance(code, str):
            return self._refuse("code must be a text")
        if action == "PANIC":
            self._alarm(CID.PANIC, user=0, name="remote")
        elif action == "SOS":
            service = cmd.get("service")
            if service not in SOS_ALARMS:
                return self._refuse("SOS service must be police, fire or medical")
            self._alarm(SOS_ALARMS[service], user=0, name="app", sos=service)
        elif action in ("ARM_AWAY", "ARM_HOME"):
            if self.lockout_end is not None:
                return self._refuse("keypad locked out: %s left"
                                    % _min_sec(ticks.until(now, self.lockout_end)))
            mode = "away" if action == "ARM_AWAY" else "home"
            return self._arm_request(mode, code, remote=True, force=cmd.get("force") is True)
        elif action == "DISARM":
            if self.lockout_end is not None:
                return self._refuse("keypad locked out: %s left"
                                    % _min_sec(ticks.until(now, self.lockout_end)))
            return self._disarm_request(code, remote=True)
        else:
            return self._refuse("unknown action %r" % (action,))
        return True

    def zone(self, now, ref, event):
        self.tick(now)
        i = self.zones.index(ref)
        if i < 0:
            return self._refuse("unknown zone %r" % (ref,))
        zs = self.zones
        zs.last_seen[i] = now
        if zs.is_(i, Z.LOST):
            zs.set(i, Z.LOST, False)
            self._zone_signal("R", CID.SUPERVISION, i)
        # "alarm": a smoke alarm as a person says it (the simulation's word).
        if event == "alarm" or Z.kind(event, Z.T_TRIP):
            self._trip(i)
        elif event == "close":
            self._restore(i)
        elif event == "tamper":
            if zs.types[i] == "tamper":
                self._trip(i)
            else:
                self._trouble(i, Z.TAMPERED, True, CID.SENSOR_TAMPER)
        elif event == "tamper_restore":
            if zs.types[i] == "tamper":
                self._restore(i)
            else:
                self._trouble(i, Z.TAMPERED, False, CID.SENSOR_TAMPER)
        elif event == "battery_low":
            self._trouble(i, Z.LOW_BATTERY, True, CID.LOW_BATTERY)
        elif event == "battery_ok":
            self._trouble(i, Z.LOW_BATTERY, False, CID.LOW_BATTERY)
        elif event != "checkin":
            return self._refuse("unknown zone event %r" % (event,))
        return True

    # ---- codes and the keypad ----

    def _check(self, code, remote=False):
        # The user entry for a code, or None after counting a wrong code.
        found = self.codes.find(code) if code else None
        if found is None:
            self._wrong_code(remote)
            return None
        self.wrong = 0
        return found

    def _wrong_code(self, remote):
        self.wrong += 1
        self._user_signal("E", CID.WRONG_CODE, 0, "keypad")
        if self.wrong >= self.cfg.lockout_attempts:
            self.wrong = 0
            self.lockout_end = ticks.add(self.now, self.cfg.lockout_time)
            self.lockout_saved = self.now
            self._user_signal("E", CID.ACCESS_DENIED, 0, "keypad", lockout=True)
            self._show_locked()
            if remote:
                self._refuse("wrong code: keypad locked out for %s"
                             % _min_sec(self.cfg.lockout_time))
        elif remote:
            self._refuse("wrong code")
        else:
            self._show("wrong_code")

    def _function(self, code, rest):
        who = self._check(code)
        if who is None:
            return
        if who[_ROLE] == "duress":
            self._user_signal("E", CID.DURESS, who[_NUMBER], who[_NAME])
        if self.state != DISARMED:
            self._show("error")
        elif rest[0] == "1":
            self._toggle_bypass(rest[1:])
        elif rest[0] == "5" and who[_ROLE] == "master":
            self._set_user(who, rest[1:])
        elif rest == "8" and who[_ROLE] == "master":
            # Enrol: the hub lists unknown BLE sensors it hears for a while.
            self._show("ok")
            self.out.append({"log": "enrol", "by": who[_NUMBER]})
        else:
            self._show("error")

    def _toggle_bypass(self, digits):
        i = self.zones.index(int(digits)) if digits else -1
        if i < 0 or self.zones.has(i, Z.H24):
            self._show("error")
            return
        on = not self.zones.is_(i, Z.BYPASSED)
        self.zones.set(i, Z.BYPASSED, on)
        self._show("bypassed" if on else "unbypassed", zone=self.zones.names[i])

    def _set_user(self, master, digits):
        if len(digits) < 2:
            self._show("error")
            return
        number = int(digits[:2])
        new = digits[2:]
        role = "user"
        name = "user %02d" % number
        for e in self.codes.entries:
            if e[_NUMBER] == number:
                role = e[_ROLE]
                name = e[_NAME]   # a new code keeps the user's name
        if number == 0 or (not new and role == "master"):
            self._show("error")
            return
        if not new:
            if self.codes.remove(number):
                self.codes_changed = True
                self._show("user_deleted")
                self.out.append({"log": "user_deleted", "user": number, "by": master[_NUMBER]})
            else:
                self._show("error")
            return
        clash = C.clash(self.codes.entries, number, role, new, budget=self.code_check_budget) \
            if C.valid_code(new) else ("invalid", 0)
        if clash is not None:
            why, _ = clash          # and the other user's number
            self._show("error")
            self.out.append({"log": "code_refused", "user": number, "why": why})
            return
        self.codes.add(number, name, role, code=new)
        self.codes_changed = True
        self._show("user_saved")
        self.out.append({"log": "user_saved", "user": number, "by": master[_NUMBER]})

    # ---- arming and disarming ----

    def _arm_request(self, mode_word, code, remote, force):
        mode = Z.AWAY if mode_word == "away" else Z.HOME
        user = 0
        if code is not None:
            who = self._check(code, remote)
            if who is None:
                return False
            if who[_ROLE] == "duress":
                self._user_signal("E", CID.DURESS, who[_NUMBER], who[_NAME])
            user = who[_NUMBER]
        elif self.cfg.code_to_arm:
            if remote:
                return self._refuse("a code is needed to arm")
            self._show("error")
            return False
        if self.state != DISARMED:
            if not remote:
                self._show("error")
            return self._refuse("already %s: disarm first" % self.state)
        offered = self.force_offer
        if offered is not None and offered[_OFFER_MODE] == mode \
                and offered[_OFFER_REMOTE] == remote \
                and (code is None or offered[_OFFER_USER] == user):
            force = True
            user = offered[_OFFER_USER]
        self.force_offer = None
        self.force_end = None
        return self._arm(mode, user, remote, force)

    def _arm(self, mode, user, remote, force):
        zs = self.zones
        blocking = []
        for i in range(len(zs)):
            if (zs.is_(i, Z.OPEN) and zs.active_in(i, mode) and not zs.has(i, Z.H24)
                    and not zs.is_(i, Z.BYPASSED)):
                blocking.append(i)
        if blocking and not (force and self.cfg.force_arm):
            names = [zs.names[i] for i in blocking if not zs.has(i, Z.AUTO_BYPASS)]
            if names:
                if self.cfg.force_arm:
                    # The same arm again within the offer bypasses them, as on
                    # the keypad; Home Assistant has no other way to say "arm anyway".
                    self.force_offer = (mode, user, remote)
                    self.force_end = ticks.add(self.now, self.force_offer_ms)
                    then = "arm again within %d s to bypass %s" % (
                        self.force_offer_ms // 1000, "it" if len(names) == 1 else "them")
                else:
                    then = "force-arming is off"
                if not remote:
                    self._show("not_ready", zones=names)
                return self._refuse("not ready: %s open (%s)" % (", ".join(names), then))
        for i in blocking:
            zs.set(i, Z.BYPASSED, True)
        zs.new_period()
        self.closed_at = None     # a closing belongs to its own armed period
        for i in range(len(zs)):
            if zs.is_(i, Z.BYPASSED):
                self._zone_signal("E", CID.BYPASS, i)
        self.mode = mode
        self.armed_by = user
        self.remote_arm = remote
        self.exit_door_opened = False
        self.exit_door_closed = False
        self.exit_restarted = False
        self.exit_error = False
        self.alarm_sent = False
        delay = self.cfg.exit_delay if mode == Z.AWAY else self.cfg.exit_delay_home
        if not remote:
            self._show("ok")
        if self.cfg.chirps:
            self._chirp("chirp1")
        if delay == 0:
            self._armed()
            return True
        self._set_state(ARMING)
        self._start_exit(delay)
        return True

    def _start_exit(self, delay):
        self.exit_end = ticks.add(self.now, delay)
        self.exit_fast = None
        if delay > self.exit_warning_ms:
            self.exit_fast = ticks.add(self.exit_end, -self.exit_warning_ms)
        self._buzz("exit")

    def _stop_exit(self):
        self.exit_end = None
        self.exit_fast = None

    def _exit_ends(self):
        self.exit_end = None
        self.exit_fast = None
        zs = self.zones
        open_door = -1
        for i in range(len(zs)):
            if zs.has(i, Z.DELAYED) and zs.is_(i, Z.OPEN) and not zs.is_(i, Z.BYPASSED) \
                    and zs.active_in(i, self.mode):
                open_door = i
        if open_door < 0 and self.mode == Z.AWAY and self.cfg.auto_stay \
                and not self.remote_arm and not self.exit_door_opened and _has_delayed(zs):
            self.mode = Z.HOME   # nobody left: stay armed for the people inside
        self._armed()
        if open_door >= 0:
            # Exit error: the door was left open. The local alarm sounds at
            # once (CP-01), so whoever just left hears it and comes back; the
            # entry delay runs meanwhile, and only without a disarm does it
            # become a reported alarm with an exit-error report.
            self.exit_error = True
            self._start_entry(open_door)
            self._local_alarm()

    def _armed(self):
        self.closed_at = self.now
        self._buzz("off")
        self._set_state(ARMED_AWAY if self.mode == Z.AWAY else ARMED_HOME)
        self._user_signal("R", CID.OPEN_CLOSE, self.armed_by, self._user_name(self.armed_by),
                          mode=MODE_WORDS[self.mode])

    def _disarm_request(self, code, remote):
        if code is None:
            if remote:
                return self._refuse("a code is needed to disarm")
            self._show("error")
            return False
        who = self._check(code, remote)
        if who is None:
            return False
        self._disarm(who, remote)
        return True

    def _disarm(self, who, remote):
        duress = who[_ROLE] == "duress"
        was = self.state
        if was == DISARMED:
            if duress:
                self._user_signal("E", CID.DURESS, who[_NUMBER], who[_NAME])
            if not remote:
                self._show("ok")
            return
        # Aborted only when nothing went out: a panic raised while a burglary
        # was held is a signal the station is acting on, so it gets a cancel.
        aborted = bool(self.held) and not self.alarm_sent
        looks_aborted = aborted           # what the keypad shows, duress or not
        if duress:
            # First, so the station acts on it soonest and knows a burglary
            # released after it came from the coerced disarm, not from the house.
            self._user_signal("E", CID.DURESS, who[_NUMBER], who[_NAME])
        if self.held:
            if duress:
                self._release_held()   # coerced: the burglary still goes out
            else:
                self.out.append({"log": "alarm_aborted", "user": who[_NUMBER], "zones":
                                 [self.zones.numbers[i] for _, _, i in self.held if i >= 0]})
                self.held = []
        if self.alarm_sent and not duress:
            self._user_signal("E", CID.CANCEL, who[_NUMBER], who[_NAME])
        if self.mode and (duress or not aborted):
            # An opening report only when the system was armed: silencing a
            # panic while disarmed is a cancel, not an opening.
            self._user_signal("E", CID.OPEN_CLOSE, who[_NUMBER], who[_NAME])
        sounding = self.siren != "off"
        self._to_disarmed()
        if not remote:
            self._show("aborted" if looks_aborted else "ok")
        if self.cfg.chirps and not sounding:
            self._chirp("chirp2")

    def _to_disarmed(self):
        self.exit_end = self.exit_fast = self.entry_end = None
        self.abort_end = self.siren_end = None
        self.held = []
        self.alarm_sent = False
        self.exit_error = False
        self.entry_zone = -1
        self.mode = 0
        self.closed_at = None
        self.emergency = 0
        self._sound("off")
        self._buzz("off")
        zs = self.zones
        zs.new_period()
        for i in range(len(zs)):
            zs.set(i, Z.BYPASSED, False)   # a bypass lasts one armed period
        self._set_state(DISARMED)

    # ---- zones ----

    def _trip(self, i):
        zs = self.zones
        if not zs.has(i, Z.MOMENTARY):
            zs.set(i, Z.OPEN, True)
        ztype = zs.types[i]
        row = Z.kind(ztype)
        event = row[Z.T_EVENT]
        if ztype == "tamper":
            if self.mode or zs.has(i, Z.ALARM_DISARMED):
                self._alarm(event, zone=i)
            else:
                # Disarmed: a trouble (keypad beeps, E383), not a siren.
                self._trouble(i, Z.TAMPERED, True, CID.SENSOR_TAMPER)
            return
        if row[Z.T_FLAGS] & Z.H24:
            self._alarm(event, zone=i)
            return
        state = self.phase
        if state == DISARMED:
            if zs.has(i, Z.CHIME):
                self._buzz_once("chime")
            return
        if state == ARMING and zs.has(i, Z.DELAYED):
            self._exit_door(i)
            return
        if zs.is_(i, Z.BYPASSED) or zs.is_(i, Z.SHUT_DOWN) or not zs.active_in(i, self.mode):
            return
        zs.trips[i] += 1
        if zs.trips[i] > self.cfg.swinger_limit:
            zs.set(i, Z.SHUT_DOWN, True)
            self.out.append({"log": "swinger_shutdown", "zone": zs.numbers[i]})
            return
        if state == ARMING:
            if not zs.has(i, Z.FOLLOWER):
                self._burglar(i, event)
        elif state == PENDING:
            if not zs.has(i, Z.DELAYED | Z.FOLLOWER):
                self._burglar(i, event)
        elif state == TRIGGERED:
            self._burglar(i, event)
        elif zs.has(i, Z.DELAYED):
            self._start_entry(i)
        else:
            self._burglar(i, event)

    def _exit_door(self, i):
        # The entry/exit door during the exit delay. Re-opening it after it was
        # closed restarts the exit delay once (someone went back in).
        if self.exit_door_closed and self.cfg.exit_restart and not self.exit_restarted:
            self.exit_restarted = True
            self._start_exit(self.cfg.exit_delay if self.mode == Z.AWAY
                             else self.cfg.exit_delay_home)
        self.exit_door_opened = True
        self.exit_door_closed = False

    def _restore(self, i):
        zs = self.zones
        was_open = zs.is_(i, Z.OPEN)
        zs.set(i, Z.OPEN, False)
        if zs.types[i] == "tamper":
            if zs.is_(i, Z.TAMPERED):
                self._trouble(i, Z.TAMPERED, False, CID.SENSOR_TAMPER)
            elif was_open:
                self._zone_signal("R", CID.TAMPER, i)
        if self.phase == ARMING and zs.has(i, Z.DELAYED) and self.exit_door_opened:
            self.exit_door_closed = True

    def _trouble(self, i, bit, on, event):
        zs = self.zones
        if bool(zs.is_(i, bit)) == on:
            return
        zs.set(i, bit, on)
        self._zone_signal("E" if on else "R", event, i)
        if on:
            self._buzz_once("trouble")

    def _supervise(self):
        zs = self.zones
        limit = self.cfg.supervision
        for i in range(len(zs)):
            if zs.has(i, Z.SUPERVISED) and not zs.is_(i, Z.LOST) \
                    and ticks.since(self.now, zs.last_seen[i]) >= limit:
                zs.set(i, Z.LOST, True)
                self._zone_signal("E", CID.SUPERVISION, i)
                self._buzz_once("trouble")

    def _start_entry(self, i):
        self.entry_zone = i
        self.entry_end = ticks.add(self.now, self.cfg.entry_delay)
        self._set_state(PENDING)
        self._buzz("entry")

    # ---- alarms ----

    def _local_alarm(self):
        self._sound("steady")
        self.siren_end = ticks.add(self.now, self.cfg.siren_time)

    def _burglar(self, i, event):
        # A burglary: siren at once, report after the abort window.
        first = self.phase != TRIGGERED
        self.entry_end = None
        self._stop_exit()
        self._set_state(TRIGGERED)
        self._buzz("off")
        self._siren("steady")
        batch = [("E", event, i)]
        if first and self.exit_error:
            batch.append(("E", CID.EXIT_ERROR, i))
        elif first and self.closed_at is not None \
                and ticks.since(self.now, self.closed_at) < self.cfg.recent_closing:
            batch.append(("E", CID.RECENT_CLOSING, -1))
        if self.cfg.abort_window and (first or self.abort_end is not None):
            self.held.extend(batch)
            if first:
                self.abort_end = ticks.add(self.now, self.cfg.abort_window)
        else:
            self.held.extend(batch)
            self._release_held()

    def _emergency(self, event):
        # Fire and medical sound and show "triggered" but leave the burglary
        # path alone: the exit delay runs on, an entry door still gets its entry
        # delay and a burglary its abort window, as if nothing had happened.
        self.emergency = event
        self._show_state()
        if event == CID.FIRE:
            self._siren("temporal3")
        else:
            self._buzz("alarm")

    def _release_held(self):
        held = self.held
        self.held = []
        self.abort_end = None
        for q, event, i in held:
            if i < 0:
                self._user_signal(q, event, self.armed_by, self._user_name(self.armed_by))
            else:
                self._zone_signal(q, event, i)
            self.alarm_sent = True

    def _alarm(self, event, zone=None, user=None, name=None, sos=None):
        # Panic, fire, medical, tamper: no abort window, reported at once. A
        # running entry delay keeps running: the intruder still gets reported.
        if event == CID.FIRE or event == CID.MEDICAL:
            self._emergency(event)
        else:
            self._stop_exit()
            self._set_state(TRIGGERED)
            self._buzz("off")
            self._siren("steady")
        if user is not None:
            self._user_signal("E", event, user, name, sos=sos)
        elif zone is None:
            self._signal("E", event, zone=0, name=name)   # the keypad itself
        else:
            self._zone_signal("E", event, zone)
        self.alarm_sent = True

    # ---- output helpers ----

    def _signal(self, q, event, **fields):
        self.seq += 1
        sig = {"code": CID.code(q, event), "event": event, "qualifier": q, "seq": self.seq}
        for k in fields:
            if fields[k] is not None:
                sig[k] = fields[k]
        self.out.append({"signal": sig})

    def _zone_signal(self, q, event, i):
        self._signal(q, event, zone=self.zones.numbers[i], name=self.zones.names[i])

    def _user_signal(self, q, event, number, name, **extra):
        extra["user"] = number
        extra["name"] = name
        self._signal(q, event, **extra)

    def _user_name(self, number):
        if number == 0:
            return "quick"
        for e in self.codes.entries:
            if e[_NUMBER] == number:
                return e[_NAME]
        return "user %02d" % number

    def _refuse(self, why):
        self.refused += 1
        self.refusal = why
        self.out.append({"error": why})
        return False

    def _set_state(self, s):
        self.phase = s
        self._show_state()

    def _show_state(self):
        s = TRIGGERED if self.emergency else self.phase
        if s != self.state:
            self.state = s
            self.out.append({"state": s})

    def _siren(self, pattern):
        # The siren for the siren time; "steady" leaves a fire's temporal3 on.
        if pattern != "steady" or self.siren != "temporal3":
            self._sound(pattern)
        self.siren_end = ticks.add(self.now, self.cfg.siren_time)

    def _sound(self, pattern):
        if pattern != self.siren:
            self.siren = pattern
            self.out.append({"siren": pattern})

    def _chirp(self, pattern):
        if self.siren == "off":
            self.out.append({"siren": pattern})

    def _buzz(self, pattern):
        if pattern == "off" and self.emergency == CID.MEDICAL:
            pattern = "alarm"   # exit and entry beeps pause a medical alarm, never end it
        if pattern != self.buzzer:
            self.buzzer = pattern
            self.out.append({"buzzer": pattern})

    def _buzz_once(self, pattern):
        self.out.append({"buzzer": pattern})

    def _show_locked(self):
        # With the time left, for a display that counts it down.
        self._show("locked", left_ms=ticks.until(self.now, self.lockout_end))

    def _show(self, what, **extra):
        item = {"keypad": what}
        for k in extra:
            item[k] = extra[k]
        self.out.append(item)


def _has_delayed(zs):
    for i in range(len(zs)):
        if zs.has(i, Z.DELAYED):
            return True
    return False


def _min_sec(ms):
    # A wait as a keypad shows it: 1:30.
    s = (ms + 999) // 1000
    return "%d:%02d" % (s // 60, s % 60)
