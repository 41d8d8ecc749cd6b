# The hub's own part of config.json (identity, network, broker, secrets, the
# BLE sensors behind zones) and the board's pin map. Like the panel's config,
# every refusal names the field.
import binascii
from panel.config import ConfigError, button_events
from radio import bthome


def _text(d, key, where, required=True, longest=64):
    v = d.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v or len(v) > longest:
        raise ConfigError(where + key, "must be a text of 1..%d characters" % longest)
    return v


def _int(d, key, where, default, lo, hi):
    v = d.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ConfigError(where + key, "must be a whole number in %d..%d" % (lo, hi))
    return v


def _section(raw, key):
    v = raw.get(key, {})
    if not isinstance(v, dict):
        raise ConfigError(key, "must be an object")
    return v


class HubSettings:
    def __init__(self, raw):
        self.hub_id = _text(raw, "hub_id", "")
        for ch in self.hub_id:
            if not (ch.isalpha() or ch.isdigit() or ch in "-_"):
                raise ConfigError("hub_id", "letters, digits, - and _ only (it is an MQTT topic level)")
        secret = _text(raw, "secret", "", longest=256)
        try:
            self.secret = binascii.unhexlify(secret)
        except Exception:
            raise ConfigError("secret", "must be hex")
        if len(self.secret) < 16:
            raise ConfigError("secret", "at least 16 random bytes (32 hex digits)")
        wifi = _section(raw, "wifi")
        self.wifi_ssid = _text(wifi, "ssid", "wifi.", required=False)
        self.wifi_password = wifi.get("password")
        mqtt = _section(raw, "mqtt")
        self.mqtt_host = _text(mqtt, "host", "mqtt.")
        self.mqtt_tls, self.mqtt_ca = _tls(mqtt)
        self.mqtt_port = _int(mqtt, "port", "mqtt.", 8883 if self.mqtt_tls else 1883, 1, 65535)
        self.mqtt_user, self.mqtt_password = _login(mqtt, self.hub_id)
        self.mqtt_prefix = _text(mqtt, "prefix", "mqtt.", required=False) or "alarm"
        self.keepalive = _int(mqtt, "keepalive", "mqtt.", 30, 10, 600)
        self.test_interval = _int(mqtt, "test_interval", "mqtt.", 3600, 60, 86400)
        self.discovery = mqtt.get("discovery", True) is not False
        self.discovery_prefix = _text(mqtt, "discovery_prefix", "mqtt.", required=False) \
            or "homeassistant"
        self.sensors = []   # (mac, zone name, zone type, key, objects, button events)
        self.wired = []     # (zone name, GPIO)
        zones = raw.get("zones", [])
        for n in range(len(zones)):
            z = zones[n]
            where = "zones[%d]." % n
            if "pin" in z:
                self.wired.append((z.get("name"), _int(z, "pin", where, 0, 0, 48)))
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
    # Pins of one board, from boards/<name>.json (copied to the hub as board.json).
    def __init__(self, raw):
        if not isinstance(raw, dict):
            raise ConfigError("board", "must be a JSON object")
        self.name = _text(raw, "name", "board.")
        keypad = raw.get("keypad")
        if not isinstance(keypad, dict):
            raise ConfigError("board.keypad", "is required")
        self.rows = _pins(keypad, "rows", "board.keypad.")
        self.cols = _pins(keypad, "cols", "board.keypad.")
        keymap = keypad.get("keys")
        if not isinstance(keymap, list) or len(keymap) != len(self.rows) \
                or any(not isinstance(r, str) or len(r) != len(self.cols) for r in keymap):
            raise ConfigError("board.keypad.keys", "one text per row, one key per column")
        self.keymap = keymap
        self.siren = _output(raw, "siren")
        self.buzzer = _output(raw, "buzzer")
        self.led = _output(raw, "led")
        # GPIOs left free for wired zones and the tamper switch (a zone's "pin").
        self.inputs = raw.get("inputs", [])

    def check_inputs(self, wired):
        used = self.rows + self.cols + [o[0] for o in (self.siren, self.buzzer, self.led) if o]
        for n in range(len(wired)):
            zone, pin = wired[n]
            if pin in used:
                raise ConfigError("zones.%s.pin" % zone, "GPIO %d is already used by the board" % pin)


def _pins(d, key, where):
    v = d.get(key)
    if not isinstance(v, list) or not v or any(not isinstance(p, int) for p in v):
        raise ConfigError(where + key, "a list of GPIO numbers")
    return v


def _output(raw, key):
    v = raw.get(key)
    if v is None:
        return None
    if not isinstance(v, dict):
        raise ConfigError("board." + key, "must be an object with pin")
    return (_int(v, "pin", "board.%s." % key, 0, 0, 48), v.get("active_high", True) is not False)
