# The DC-09 part of config.json: where the central station's receiver is and
# what the monitoring company gave for this hub. Loaded only when "paths"
# names "dc09", so an MQTT-only hub carries none of it. Every refusal names
# the field (and never echoes the key).
from panel.config import ConfigError


def _hexes(v, lo, hi):
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        v = "%d" % v
    if not isinstance(v, str) or not lo <= len(v) <= hi:
        return None
    for ch in v:
        if ch not in "0123456789abcdefABCDEF":
            return None
    return v.upper()


def dc09(d):
    """The Dc09 path's keyword arguments (uplink/dc09_link.py) from the "dc09" object."""
    if not isinstance(d, dict):
        raise ConfigError("dc09", "must be an object: host, port, account, key, ...")
    host = d.get("host")
    if not isinstance(host, str) or not host or len(host) > 64:
        raise ConfigError("dc09.host", "the receiver's name or address (1..64 characters)")
    port = d.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError("dc09.port", "the receiver's TCP port, 1..65535")
    account = _hexes(d.get("account"), 3, 16)
    if account is None:
        raise ConfigError("dc09.account", "3..16 hex digits, as the monitoring company gave it")
    key = d.get("key")
    if key is not None:
        from uplink.dc09_cbc import check_key
        try:
            key = check_key(key)
        except ValueError as e:
            raise ConfigError("dc09.key", str(e))
    out = {"host": host, "port": port, "account": account, "key": key}
    for name, default in (("receiver", None), ("line", "0")):
        v = d.get(name, default)
        if v is not None:
            v = _hexes(v, 1, 6)
            if v is None:
                raise ConfigError("dc09." + name, "1..6 hex digits (a number 0..999999)")
        out[name] = v
    sup = d.get("supervision", 600)
    if not isinstance(sup, int) or isinstance(sup, bool) or not (sup == 0 or 10 <= sup <= 86400):
        raise ConfigError("dc09.supervision", "seconds between link tests, 10..86400, or 0 (none)")
    out["supervision_s"] = sup
    for k in d:
        if k not in ("host", "port", "account", "key", "receiver", "line", "supervision"):
            raise ConfigError("dc09." + k, "unknown field")
    return out
