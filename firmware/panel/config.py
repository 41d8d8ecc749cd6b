# The panel's part of the hub config, checked before the panel starts.
# Every refusal names the field ("zones[2].type: ...") so a wrong config.json
# says exactly what to fix. Durations are seconds in the file, ms inside.
from panel.compat import const
from panel import zones as Z
from panel import codes

_NUMBER = const(0)      # a user's number in an entry of panel/codes.py
# (field, default, lowest, highest). Ranges follow ANSI/SIA CP-01 where it sets one.
TIMINGS = (
    ("exit_delay", 60, 45, 255),
    ("exit_delay_home", None, 0, 255),  # None: same as exit_delay; 0 arms Home at once
    ("entry_delay", 30, 30, 240),
    ("abort_window", 30, 0, 45),
    ("siren_time", 240, 60, 1800),
    ("recent_closing", 120, 0, 300),
    ("lockout_time", 90, 30, 900),
    ("supervision", 7200, 600, 86400),
    # Mains off this long before AC loss is reported (panel/mains.py): a
    # minute rides out flickers and breaker resets without keeping the station
    # from a cut that will drain the battery; at most 30 min (ticks.AHEAD).
    ("ac_loss_delay", 60, 10, 1800),
)
COUNTS = (
    ("swinger_limit", 2, 1, 6),
    ("lockout_attempts", 5, 3, 10),
)
SWITCHES = (
    ("chirps", False),
    ("code_to_arm", False),
    ("auto_stay", True),
    ("exit_restart", True),
    ("force_arm", True),    # arming again with a zone open bypasses it (keypad and remote)
)
# Sections owned by other parts of the hub (radio, uplink, board); the panel
# leaves them to their own validators.
OTHERS = ("hub_id", "wifi", "mqtt", "board", "secret", "uplink", "radio", "name", "dc09")
ZONE_FIELDS = ("number", "name", "type", "modes", "delayed", "follower", "chime",
               "auto_bypass", "wired", "supervised",
               "alarm_when_disarmed",
               # read by the radio driver and the uplink, not the panel:
               "mac", "key", "object", "device_class", "pin", "button_events")
USER_FIELDS = ("number", "name", "role", "code", "code_hash")
ROLES = ("user", "master", "duress")
MODE_NAMES = (("home", Z.HOME), ("away", Z.AWAY))


class ConfigError(Exception):
    def __init__(self, field, problem):
        super().__init__("%s: %s" % (field, problem))
        self.field = field
        self.problem = problem


def _int(d, field, default, lo, hi, name=None):
    # None only for a field that may be left out (default None): a null given
    # for any other is refused like any other value that is not a number.
    v = d.get(field, default)
    name = name or field
    if v is None and default is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise ConfigError(name, "must be a whole number, got %r" % (v,))
    if v < lo or v > hi:
        raise ConfigError(name, "%d is out of range %d..%d" % (v, lo, hi))
    return v


def _bool(d, field, default, name):
    v = d.get(field, default)
    if v is not True and v is not False:
        raise ConfigError(name, "must be true or false, got %r" % (v,))
    return v


def _str(d, field, name, longest=24):
    v = d.get(field)
    if not isinstance(v, str) or not v or len(v) > longest:
        raise ConfigError(name, "must be a text of 1..%d characters" % longest)
    return v


def _unknown(d, allowed, where):
    for k in d:
        if k not in allowed:
            raise ConfigError(where + k, "unknown field")


class Config:
    # Settings the panel reads, in ms where they are times.

    def __init__(self, raw, random_bytes):
        if not isinstance(raw, dict):
            raise ConfigError("config", "must be a JSON object")
        allowed = ["zones", "users"]
        for f in TIMINGS + COUNTS + SWITCHES:
            allowed.append(f[0])
        _unknown(raw, allowed + list(OTHERS), "")
        for f, default, lo, hi in TIMINGS:
            v = _int(raw, f, default, lo, hi)
            setattr(self, f, None if v is None else v * 1000)
        if self.exit_delay_home is None:
            self.exit_delay_home = self.exit_delay
        elif 0 < self.exit_delay_home < 45000:
            raise ConfigError("exit_delay_home", "must be 0 or 45..255")
        for f, default, lo, hi in COUNTS:
            setattr(self, f, _int(raw, f, default, lo, hi))
        for f, default in SWITCHES:
            setattr(self, f, _bool(raw, f, default, f))
        self.zones = _zones(raw.get("zones", []))
        self.codes = _users(raw.get("users", []), random_bytes)


def _zones(items):
    if not isinstance(items, list):
        raise ConfigError("zones", "must be a list")
    if len(items) > 64:
        raise ConfigError("zones", "at most 64 zones")
    table = Z.Zones()
    for n in range(len(items)):
        z = items[n]
        where = "zones[%d]" % n
        if not isinstance(z, dict):
            raise ConfigError(where, "must be an object")
        _unknown(z, ZONE_FIELDS, where + ".")
        number = _int(z, "number", None, 1, 999, where + ".number")
        if number is None:
            raise ConfigError(where + ".number", "is required")
        if table.index(number) >= 0:
            raise ConfigError(where + ".number", "zone %d is defined twice" % number)
        name = _str(z, "name", where + ".name")
        if table.index(name) >= 0:
            raise ConfigError(where + ".name", "zone name %r is used twice" % name)
        ztype = z.get("type")
        row = Z.kind(ztype)
        if row is None:
            names = []     # a loop, not a generator: 11 bytes less on the board
            for t in Z.TYPES:
                names.append(t[Z.T_NAME])
            raise ConfigError(where + ".type", "unknown zone type %r (one of %s)"
                              % (ztype, ", ".join(names)))
        flags = row[Z.T_FLAGS]
        always = flags & Z.H24
        if _bool(z, "delayed", False, where + ".delayed"):
            flags |= Z.DELAYED
        if _bool(z, "follower", False, where + ".follower"):
            flags |= Z.FOLLOWER
        if flags & Z.DELAYED and flags & Z.FOLLOWER:
            raise ConfigError(where + ".follower", "a zone is delayed or a follower, not both")
        if always and flags & (Z.DELAYED | Z.FOLLOWER):
            raise ConfigError(where + ".delayed", "a %s zone is always instant" % ztype)
        if _bool(z, "chime", False, where + ".chime"):
            flags |= Z.CHIME
        if _bool(z, "auto_bypass", False, where + ".auto_bypass"):
            flags |= Z.AUTO_BYPASS
        wired = _bool(z, "wired", False, where + ".wired")
        if wired:
            flags |= Z.WIRED
        if _bool(z, "supervised", not wired, where + ".supervised"):
            flags |= Z.SUPERVISED
        flags |= _tamper_options(z, ztype, where)
        modes = _modes(z, row[Z.T_MODES], where + ".modes")
        button_events(z, where)
        table.add(number, name, ztype, flags, modes)
    return table


# A single press is too easy to make by accident (a bag, a child) to call the
# police; a release, "none" or a code the format does not define is no press.
BUTTON_DEFAULT = ("long_press",)
BUTTON_PRESSES = "press double_press triple_press long_press long_double_press " \
                 "long_triple_press hold_press"


def button_events(z, where):
    """The BTHome button events that trip zone z ("button_events"), checked."""
    names = z.get("button_events", BUTTON_DEFAULT)
    ok = BUTTON_PRESSES.split()
    if not isinstance(names, (list, tuple)) or not names \
            or any(n not in ok for n in names):
        raise ConfigError(where + ".button_events", "a list of one or more of: "
                          + BUTTON_PRESSES)
    return tuple(names)


def _tamper_options(z, ztype, where):
    # An enclosure tamper while disarmed is a trouble (someone servicing the
    # hub); an installer may make it a full siren alarm in every mode.
    field = where + ".alarm_when_disarmed"
    if not _bool(z, "alarm_when_disarmed", False, field):
        return 0
    if ztype != "tamper":
        raise ConfigError(field, "only a tamper zone has this option")
    return Z.ALARM_DISARMED


def _modes(z, default, where):
    if "modes" not in z:
        return default
    names = z["modes"]
    if not isinstance(names, list):
        raise ConfigError(where, "must be a list of \"home\" and/or \"away\"")
    bits = 0
    for m in names:
        for word, bit in MODE_NAMES:
            if m == word:
                bits |= bit
                break
        else:
            raise ConfigError(where, "unknown mode %r (home or away)" % (m,))
    return bits


def _users(items, random_bytes):
    if not isinstance(items, list):
        raise ConfigError("users", "must be a list")
    if len(items) > 32:
        raise ConfigError("users", "at most 32 users")
    table = codes.Codes(random_bytes)
    plain = []  # (where, number, role, code): checked once all are loaded
    seen = []
    for n in range(len(items)):
        u = items[n]
        where = "users[%d]" % n
        if not isinstance(u, dict):
            raise ConfigError(where, "must be an object")
        _unknown(u, USER_FIELDS, where + ".")
        number = _int(u, "number", None, 1, 99, where + ".number")
        if number is None:
            raise ConfigError(where + ".number", "is required")
        if number in seen:
            raise ConfigError(where + ".number", "user %d is defined twice" % number)
        seen.append(number)
        name = _str(u, "name", where + ".name")
        role = u.get("role", "user")
        if role not in ROLES:
            raise ConfigError(where + ".role", "unknown role %r (one of %s)"
                              % (role, ", ".join(ROLES)))
        code = u.get("code")
        stored = u.get("code_hash")
        if (code is None) == (stored is None):
            raise ConfigError(where + ".code", "give exactly one of code or code_hash")
        if code is not None:
            if not codes.valid_code(code):
                raise ConfigError(where + ".code", "a code is 4 to 8 digits")
            plain.append((where, number, role, code))
            table.add(number, name, role, code=code)
        else:
            try:
                table.add(number, name, role, stored=stored)
            except ValueError as e:
                raise ConfigError(where + ".code_hash", str(e))
    _check_codes(table, plain, seen)
    return table


def _check_codes(table, plain, numbers):
    # The keypad's rule (codes.clash), with the plain codes config still
    # holds; of two plain codes that clash, the later one is named.
    known = {}
    for _, number, _, code in plain:
        known[number] = code
    later = [number for _, number, _, _ in plain]
    for where, number, role, code in plain:
        later.remove(number)
        entries = [e for e in table.entries if e[_NUMBER] not in later]
        c = codes.clash(entries, number, role, code, known)
        if c is None:
            continue
        why, other = c
        other = "users[%d]" % numbers.index(other)
        if why == "same":
            raise ConfigError(where + ".code", "same code as " + other)
        raise ConfigError(where + ".code", "a duress code must be at least 2 steps (a digit"
                          " changed, missing, extra or swapped) from %s's code" % other)
