# What the hub shows on the broker besides its signals: retained zone states,
# each sensor's battery and signal, Home Assistant discovery, and a status
# report of every counter. The link sends all of it when connected and again
# after each reconnect; entries are keyed by small ints (kind | zone index)
# and turned into topics and payloads only when sent, so ~100 retained topics
# do not sit in the board's heap.
import json
from panel import ticks
from panel import zones as Z
from hub import ha
from radio.sensors import news, S_ZONE

from panel.compat import const

_ZONE_STATE = const(0x100)
_ZONE_ATTRS = const(0x200)
_ZONE_CONFIG = const(0x300)
_PANEL_CONFIG = const(0x400)
_ANSWER = const(0x500)
_MAINS = const(0x600)
_MAINS_CONFIG = const(0x700)
# Retained keys not per zone: panel config, status, answer, and the mains'
# state and config (room held for them on a board without a mains sense too).
_OWN_KEYS = const(5)
_NO_REFUSAL = b"{}"


class Presence:
    status_ms = 60000        # how often the counters go out on the status topic

    def __init__(self, link, zones, discovery_prefix, prefix, hub_id, mains_lost=None):
        # First, before anything else takes the free block boot left for it
        # (hub/boot.py): the retained table at its final size (each zone's
        # state, attributes and discovery config, the panel's config, the
        # status and the answer to the last command), in one block. Grown a
        # key at a time, each step asks for a bigger block while the old one
        # is still held (584, 776, then 1016 B for 32 zones on a 32-bit
        # board), later from a heap the loop has cut into small pieces. A key
        # more than this grows it then: _OWN_KEYS counts the ones not per zone.
        keys = range(3 * len(zones) + _OWN_KEYS)
        table = dict.fromkeys(keys)
        for key in keys:
            del table[key]        # its slot stays for the keys published below
        table.update(link.retained)
        link.retained = table
        self.link = link
        self.zones = zones
        self.discovery_prefix = discovery_prefix
        self.base = "%s/%s" % (prefix, hub_id)
        self.hub_id = hub_id
        self.status_topic = self.base + "/status"
        levels = ha.slugs(zones.names, zones.numbers)        # zone topic levels
        # Names that are already safe levels (the usual case) cost no list of their own.
        self.levels = zones.names if levels == zones.names else levels
        self._next_status = None
        link.retained_topic = self._topic
        link.publish_retained(_ANSWER, _NO_REFUSAL)   # none left from before a reboot
        if discovery_prefix:
            build = self._discovery
            link.publish_retained(_PANEL_CONFIG, build)
            for i in range(len(zones)):
                link.publish_retained(_ZONE_CONFIG + i, build)
        for i in range(len(zones)):
            link.publish_retained(_ZONE_STATE + i, b"ON" if zones.is_(i, Z.OPEN) else b"OFF")
        if mains_lost is not None:      # None: the board senses no mains
            if discovery_prefix:
                link.publish_retained(_MAINS_CONFIG, build)
            self.mains(mains_lost)

    def mains(self, lost):
        self.link.publish_retained(_MAINS, b"OFF" if lost else b"ON")

    def zone(self, name, event):
        if event == "close" or event == "tamper_restore":
            word = b"OFF"
        elif event == "tamper" or Z.kind(event, Z.T_TRIP):
            word = b"ON"
        else:
            return
        i = self.zones.index(name)
        if i >= 0:
            self.link.publish_retained(_ZONE_STATE + i, word)

    def answer(self, refusal):
        # The alarm panel's attributes in Home Assistant: why its last command
        # was refused, or nothing once one is carried out. A duress disarm is
        # carried out like any other, so it answers the same.
        self.link.publish_retained(_ANSWER, _NO_REFUSAL if refusal is None else
                                   json.dumps({"refused": refusal}).encode())

    def sensor(self, sensor):
        attrs = news(sensor)
        i = self.zones.index(sensor[S_ZONE])
        if attrs is not None and i >= 0:
            self.link.publish_retained(_ZONE_ATTRS + i, json.dumps(attrs).encode())

    def status(self, now, report):
        # report: () -> dict, called only when the status is due.
        if self._next_status is None or ticks.diff(now, self._next_status) >= 0:
            self._next_status = ticks.add(now, self.status_ms)
            # Built when the link sends it (a new builder each time, so it is
            # sent again): the report's JSON, 600 B for 32 zones, never sits in
            # the heap while the link is down, nor twice (str, then bytes)
            # beside the loop's other work.
            self.link.publish_retained(self.status_topic,
                                       lambda key: json.dumps(report()).encode())

    def _topic(self, key):
        if key == _PANEL_CONFIG:
            return ha.panel_topic(self.discovery_prefix, self.hub_id)
        if key == _ANSWER:
            return self.base + "/answer"
        if key == _MAINS:
            return self.base + "/mains"
        if key == _MAINS_CONFIG:
            return ha.mains_topic(self.discovery_prefix, self.hub_id)
        kind = key & ~0xFF
        level = self.levels[key & 0xFF]
        if kind == _ZONE_CONFIG:
            return ha.zone_topic(self.discovery_prefix, self.hub_id, level)
        return self.base + "/zone/" + level + ("/attributes" if kind == _ZONE_ATTRS else "")

    def _discovery(self, key):
        if key == _PANEL_CONFIG:
            return ha.panel_config(self.base, self.hub_id)
        if key == _MAINS_CONFIG:
            return ha.mains_config(self.base, self.hub_id)
        i = key & 0xFF
        zs = self.zones
        return ha.zone_config(self.base, self.hub_id, zs.numbers[i], zs.names[i], zs.types[i],
                              self.levels[i])
