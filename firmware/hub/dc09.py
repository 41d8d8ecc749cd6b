# The hub's SIA DC-09 report path: the config's "dc09" object (the report
# paths, the ack policy, where the central station's receiver is and what the
# monitoring company gave for this hub), and putting the path on the hub's
# loop (Setup). Imported by hub/settings.py only when the config has "dc09",
# so an MQTT-only hub loads none of it (nor the DC-09 code it brings in).
# Every refusal names the field, never the key.
from panel.config import ConfigError


class Setup:
    """The DC-09 path as configured: args are uplink.dc09_link.Dc09's.
    Calling it puts the path on a hub (a call, not a method: boot's hook is
    paid by the MQTT-only image, which sits 1 byte under its flash budget)."""

    def __init__(self, args, paths, first):
        self.args = args
        self.paths = paths
        self.first = first

    def __call__(self, hub, wall):
        """Called by boot before hub.settle(), so the restart signal goes
        into the outbox made here."""
        from uplink.dc09_link import Dc09
        box = hub.outbox
        if len(self.paths) > 1:
            from uplink.outbox import FileStore, MemStore
            from uplink.outbox_paths import PathsOutbox, View
            where = getattr(box.store, "path", None)
            acks = FileStore(where + ".paths") if where else MemStore()
            # The queue as boot read it, with each path's acks: from here on
            # the hub, the MQTT link and the DC-09 path share this one.
            box = hub.outbox = PathsOutbox(box.store, box.capacity, self.paths, self.first,
                                           acks)
            if hub.link is not None:
                hub.link.outbox = View(box, "mqtt")
            box = View(box, "dc09")
        hub.dc09 = Dc09(box, clock=wall.now, **self.args)
        if hub.link is not None:
            hub.link.stats["dc09"] = hub.dc09.stats   # on the status topic with the link's


def dc09(settings, d):
    """From config.json's "dc09" object: sets settings.paths, .ack_first and
    .dc09 (a Setup, or None when "paths" leaves DC-09 out); .mqtt_host is
    None when the hub reports over DC-09 only."""
    if not isinstance(d, dict):
        raise ConfigError("dc09", "must be an object: host, port, account, key, ...")
    p = settings.paths = d.get("paths", ["mqtt", "dc09"])
    if not isinstance(p, list) or p not in (["mqtt"], ["dc09"], ["mqtt", "dc09"],
                                            ["dc09", "mqtt"]):
        raise ConfigError("dc09.paths", 'the report paths: ["mqtt"], ["dc09"] or both')
    if "mqtt" not in p:
        settings.mqtt_host = None
    elif settings.mqtt_host is None:
        raise ConfigError("mqtt.host", "is required with the mqtt path")
    ack = d.get("ack", "all")
    if ack not in ("all", "first"):
        raise ConfigError("dc09.ack", '"all" (every path acks a signal) or "first"')
    settings.ack_first = ack == "first"
    args = _fields(d)       # checked also while "paths" leaves it off: it is still wrong
    settings.dc09 = Setup(args, p, settings.ack_first) if "dc09" in p else None


def _hexes(v, lo, hi):
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        v = "%d" % v
    if not isinstance(v, str) or not lo <= len(v) <= hi:
        return None
    for ch in v:
        if ch not in "0123456789abcdefABCDEF":
            return None
    return v.upper()


def _fields(d):
    # The Dc09 path's keyword arguments (uplink/dc09_link.py).
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
    sup = d.get("supervision", 240)    # inside our monitor's 300 s idle limit
    if not isinstance(sup, int) or isinstance(sup, bool) or not (sup == 0 or 10 <= sup <= 86400):
        raise ConfigError("dc09.supervision", "seconds between link tests, 10..86400, or 0 (none)")
    out["supervision_s"] = sup
    for k in d:
        if k not in ("paths", "ack", "host", "port", "account", "key", "receiver", "line",
                     "supervision"):
            raise ConfigError("dc09." + k, "unknown field")
    return out
