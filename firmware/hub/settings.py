# The hub's own part of config.json (identity, network, broker, secrets, the
# BLE sensors behind zones) and the board's pin map. Like the panel's config,
# every refusal names the field.
import binascii
from panel.config import ConfigError, button_events, _int, _str
from radio import bthome

from panel.compat import const

# umqtt.simple up to 1.7.0 (frozen in stock v1.28) writes a SUBSCRIBE's
# remaining length (2 id + 2 length + topic + 1 QoS) in one byte, so a topic
# over 122 bytes breaks every connect; 1.8 encodes it properly.
SUBSCRIBE_TOPIC_MAX = const(122)
SUBSCRIBED = ("acks", "commands")     # the topics the link subscribes to
# A board output (Board.siren, .buzzer, .led), a tuple read by these
# positions: its GPIO and whether it is active high.
_PIN = const(0)
_ACTIVE_HIGH = const(1)


def _text(d, key, where, required=True, longest=64):
    if required or d.get(key) is not None:
        return _str(d, key, where + key, longest)


def _slug_ok(text):
    # An MQTT topic level Home Assistant accepts in a discovery topic.
    for ch in text:
        if not ("a" <= ch <= "z" or "A" <= ch <= "Z" or "0" <= ch <= "9" or ch in "-_"):
            return False
    return True


def _section(raw, key):
    v = raw.get(key, {})
    if not isinstance(v, dict):
        raise ConfigError(key, "must be an object")
    return v


class HubSettings:
    dc09 = None    # or the DC-09 path's settings (hub/dc09.py)
    def __init__(self, raw):
        self.hub_id = _text(raw, "hub_id", "")
        if not _slug_ok(self.hub_id):
            raise ConfigError("hub_id", "ASCII letters, digits, - and _ only (it is an MQTT topic level)")
        secret = _text(raw, "secret", "", longest=256)
        try:
            self.secret = binascii.unhexlify(secret)
        except Exception:
            raise ConfigError("secret", "must be hex")
        if len(self.secret) < 16:
            raise ConfigError("secret", "at least 16 random bytes (32 hex digits)")
        wifi = _section(raw, "wifi")
        self.wifi_ssid = _text(wifi, "ssid", "wifi.", required=False, longest=32)
        self.wifi_password = None
        if wifi.get("password") not in (None, ""):
            # WPA2: 8..63 characters (or 64 hex digits); an open network has none.
            self.wifi_password = _text(wifi, "password", "wifi.", longest=64)
            if len(self.wifi_password) < 8:
                raise ConfigError("wifi.password", "8..64 characters, or none (open network)")
        mqtt = _section(raw, "mqtt")
        hosts = mqtt.get("host")
        if not isinstance(hosts, list):
            self.mqtt_host = _text(mqtt, "host", "mqtt.", "dc09" not in raw)
        self.mqtt_tls, self.mqtt_ca = _tls(mqtt)
        self.mqtt_port = _int(mqtt, "port", 8883 if self.mqtt_tls else 1883, 1, 65535, "mqtt.port")
        self.mqtt_brokers = _brokers(mqtt, self.mqtt_port)
        if self.mqtt_brokers:
            self.mqtt_host, self.mqtt_port = self.mqtt_brokers[0]
        self.mqtt_user, self.mqtt_password = _login(mqtt, self.hub_id)
        self.mqtt_prefix = _text(mqtt, "prefix", "mqtt.", required=False) or "alarm"
        for leaf in SUBSCRIBED:
            topic = "%s/%s/%s" % (self.mqtt_prefix, self.hub_id, leaf)
            n = len(topic.encode())
            if n > SUBSCRIBE_TOPIC_MAX or "+" in topic or "#" in topic:
                field = "hub_id" if len(self.hub_id) > len(self.mqtt_prefix) else "mqtt.prefix"
                raise ConfigError(field, "topic %s: %d bytes, at most %d (umqtt.simple), no + #"
                                  % (topic, n, SUBSCRIBE_TOPIC_MAX))
        self.keepalive = _int(mqtt, "keepalive", 30, 10, 600, "mqtt.keepalive")
        self.test_interval = _int(mqtt, "test_interval", 3600, 60, 86400, "mqtt.test_interval")
        self.discovery = mqtt.get("discovery", True) is not False
        self.discovery_prefix = _text(mqtt, "discovery_prefix", "mqtt.", required=False) \
            or "homeassistant"
        ntp = raw.get("ntp", "pool.ntp.org")
        if ntp is not False and (not isinstance(ntp, str) or not ntp or len(ntp) > 64):
            raise ConfigError("ntp", "an NTP server, or false")
        self.ntp = ntp or None
        if "dc09" in raw:
            from hub.dc09 import dc09     # only then: an MQTT-only hub goes without
            dc09(self, raw["dc09"])
        self.sensors = []   # (mac, zone name, zone type, key, objects, button events)
        self.wired = []     # (zone name, GPIO)
        self.wired_fields = []   # the config field of each, for refusals
        zones = raw.get("zones", [])
        for n in range(len(zones)):
            z = zones[n]
            where = "zones[%d]." % n
            if "pin" in z:
                self.wired.append((z.get("name"), _int(z, "pin", 0, 0, 48, where + "pin")))
                self.wired_fields.append(where + "pin")
            if "mac" not in z:
                continue
            try:
                mac = bthome.format_mac(bthome.parse_mac(z["mac"]))
            except (bthome.BTHomeError, AttributeError):
                raise ConfigError(where + "mac", "must look like AA:BB:CC:DD:EE:FF")
            key = z.get("key")
            if key is not None:
                try:
                    key = binascii.unhexlify(key)
                except Exception:
                    key = b""
                if len(key) != 16:
                    raise ConfigError(where + "key", "a bind key is 32 hex digits")
            objects = z.get("object")
            if objects is not None:
                if isinstance(objects, str):
                    objects = [objects]
                for name in objects:
                    try:
                        bthome.object_id(name)
                    except bthome.BTHomeError:
                        raise ConfigError(where + "object", "unknown BTHome object %r" % (name,))
            self.sensors.append((mac, z.get("name"), z.get("type"), key, objects,
                                 button_events(z, "zones[%d]" % n)))


def _brokers(mqtt, port):
    # "host" or "host:port", or a list of them: the nodes of a broker cluster,
    # tried in turn (uplink/link.py).
    hosts = mqtt.get("host")
    if hosts is None:
        return None
    if not isinstance(hosts, list):
        hosts = [hosts]
    if not 1 <= len(hosts) <= 8:
        raise ConfigError("mqtt.host", "a host or a list of 1..8 hosts (a cluster's nodes)")
    out = []
    for h in hosts:
        if not isinstance(h, str) or not 0 < len(h) <= 64:
            raise ConfigError("mqtt.host", "each host must be a text of 1..64 characters")
        name, p = h, port
        if ":" in h:
            name, p = h.rsplit(":", 1)
            try:
                p = int(p)
            except ValueError:
                p = 0
            if not name or not 1 <= p <= 65535:
                raise ConfigError("mqtt.host", "%r: host:port with a port of 1..65535" % h)
        out.append((name, p))
    return out


def _tls(mqtt):
    # TLS only with the CA that signed the broker's certificate: a hub that
    # asks for TLS never connects unverified, and never in plaintext.
    tls = mqtt.get("tls", False)
    if not isinstance(tls, bool):
        raise ConfigError("mqtt.tls", "must be true or false")
    ca = mqtt.get("ca")
    if not tls:
        if ca is not None:
            raise ConfigError("mqtt.ca", "is only used with \"tls\": true")
        return False, None
    if not isinstance(ca, str) or len(ca) > 4096:
        raise ConfigError("mqtt.ca", "the broker's CA certificate (PEM text) is required with tls")
    from uplink.tls import pem_to_der
    try:
        pem_to_der(ca)
    except ValueError as e:
        raise ConfigError("mqtt.ca", str(e))
    return True, ca


def _login(mqtt, hub_id):
    # The broker's ACL is keyed on the user name, so a hub logs in as itself.
    user = _text(mqtt, "user", "mqtt.", required=False)
    password = mqtt.get("password")
    if password is None:
        if user is not None:
            raise ConfigError("mqtt.password", "is required with mqtt.user")
        return None, None
    if not isinstance(password, str) or not 8 <= len(password) <= 128:
        # Never echo the value: this message reaches the console and the log.
        raise ConfigError("mqtt.password", "must be a text of 8..128 characters")
    if user is not None and user != hub_id:
        raise ConfigError("mqtt.user", "must be the hub_id (the broker's ACL names the hub)")
    return hub_id, password


class Board:
    # Pins of one board, from boards/<name>.json (copied to the hub as board.json),
    # checked against the chip facts the file declares under "pins": which
    # GPIOs exist, which the flash (and PSRAM) use, which are inputs without
    # pull-ups, and which the board itself reserves (console, BOOT button).
    def __init__(self, raw):
        if not isinstance(raw, dict):
            raise ConfigError("board", "must be a JSON object")
        self.name = _text(raw, "name", "board.")
        facts = raw.get("pins")
        if not isinstance(facts, dict):
            raise ConfigError("board.pins", "is required: the chip's GPIO facts")
        self.exist = _ranges(facts, "exist")
        self.flash = _ranges(facts, "flash")
        self.input_only = _ranges(facts, "input_only")
        reserved = facts.get("reserved", {})
        if not isinstance(reserved, dict):
            raise ConfigError("board.pins.reserved", "an object: GPIO -> what uses it")
        self.reserved = reserved
        keypad = raw.get("keypad")
        if not isinstance(keypad, dict):
            raise ConfigError("board.keypad", "is required")
        self.rows = _pins(keypad, "rows", "board.keypad.")
        self.cols = _pins(keypad, "cols", "board.keypad.")
        for i in range(len(self.rows)):
            self.check_pin(self.rows[i], "board.keypad.rows[%d]" % i, output=True)
        for i in range(len(self.cols)):
            self.check_pin(self.cols[i], "board.keypad.cols[%d]" % i, pull_up=True)
        keymap = keypad.get("keys")
        if not isinstance(keymap, list) or len(keymap) != len(self.rows) \
                or any(not isinstance(r, str) or len(r) != len(self.cols) for r in keymap):
            raise ConfigError("board.keypad.keys", "one text per row, one key per column")
        self.keymap = keymap
        self.siren = self._output(raw, "siren")
        self.buzzer = self._output(raw, "buzzer")
        self.led = self._output(raw, "led")
        self.mains_sense = self._mains(raw)
        # GPIOs left free for wired zones and the tamper switch (a zone's "pin").
        self.inputs = raw.get("inputs", [])

    def check_pin(self, pin, field, output=False, pull_up=False):
        """Refuse a GPIO this board cannot use that way, naming the field."""
        why = self.reserved.get(str(pin))
        if not _within(pin, self.exist):
            why = "does not exist"
        elif _within(pin, self.flash):
            why = "is the flash's"
        elif why is not None:
            why = "is reserved: " + why
        elif (output or pull_up) and _within(pin, self.input_only):
            why = "is input-only, no pull-up"
        if why is not None:
            raise ConfigError(field, "GPIO %d %s" % (pin, why))

    def check_inputs(self, wired, fields=None):
        used = self.rows + self.cols + [o[_PIN] for o in (self.siren, self.buzzer, self.led,
                                                          self.mains_sense) if o]
        for n in range(len(wired)):
            zone, pin = wired[n]
            field = fields[n] if fields else "zones.%s.pin" % zone
            self.check_pin(pin, field, pull_up=True)
            if pin in used:
                raise ConfigError(field, "GPIO %d is already used by the board" % pin)
            for m in range(n):
                other, other_pin = wired[m]
                if other_pin == pin:
                    raise ConfigError(field, "GPIO %d is already the pin of %s" % (pin, other))

    def _mains(self, raw):
        # The mains-sense input: (GPIO, the level it reads while the mains is
        # on), e.g. the 5 V supply through a divider, or VBUS; None: no AC
        # supervision. Driven by the divider, so an input-only GPIO will do.
        v = raw.get("mains_sense")
        if v is None:
            return None
        if not isinstance(v, dict):
            raise ConfigError("board.mains_sense", "must be an object with pin and present")
        pin = _int(v, "pin", None, 0, 48, "board.mains_sense.pin")
        if pin is None:
            raise ConfigError("board.mains_sense.pin", "is required: the GPIO sensing the mains")
        self.check_pin(pin, "board.mains_sense.pin")
        used = self.rows + self.cols + [o[_PIN] for o in (self.siren, self.buzzer, self.led) if o]
        if pin in used:
            raise ConfigError("board.mains_sense.pin", "GPIO %d is already used by the board" % pin)
        present = _int(v, "present", 1, 0, 1, "board.mains_sense.present")
        return (pin, present)

    def _output(self, raw, key):
        v = raw.get(key)
        if v is None:
            return None
        if not isinstance(v, dict):
            raise ConfigError("board." + key, "must be an object with pin")
        pin = _int(v, "pin", 0, 0, 48, "board.%s.pin" % key)
        self.check_pin(pin, "board.%s.pin" % key, output=True)
        return (pin, v.get("active_high", True) is not False)


def _ranges(facts, key):
    # [[lo, hi], ...] inclusive GPIO ranges
    v = facts.get(key, [])
    if not isinstance(v, list) or any(not isinstance(r, list) or len(r) != 2
                                      or not isinstance(r[0], int) or not isinstance(r[1], int)
                                      for r in v):
        raise ConfigError("board.pins." + key, "a list of [first, last] GPIO ranges")
    return v


def _within(pin, ranges):
    for r in ranges:
        if r[0] <= pin <= r[1]:
            return True
    return False


def _pins(d, key, where):
    v = d.get(key)
    if not isinstance(v, list) or not v or any(not isinstance(p, int) for p in v):
        raise ConfigError(where + key, "a list of GPIO numbers")
    return v
