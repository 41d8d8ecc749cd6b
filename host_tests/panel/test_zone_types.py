# Issue 22: a zone type is one row of panel/zones.py TYPES (and, for the
# simulation's page, optionally one of tools/sim/zone_types.py). Every consumer
# must take what it knows of a type from there: each one's view of each row
# equals the row, and a type added to the table alone works end to end.
import json
import os

import pytest

from panel import contact_id as CID
from panel import zones as Z
from panel.config import Config
from panel.panel import Panel
from hub import ha
from hub.presence import Presence
from radio import bthome_encode
from radio.sensors import Sensors, S_TRIP_ON
from tools.sim import happened
from tools.sim import sensors as sim
from tools.sim import zone_types as sim_types

USERS = [{"number": 1, "name": "owner", "code": "1234", "role": "master"}]
MAC = "3C:2E:F5:00:00:01"
# Water on the floor: 24-hour, latching, an event code no other type has, a
# trip word no other type uses. Nothing but this row is added anywhere.
LEAK = ("leak", Z.H24, Z.HOME, 154, "moisture", ("moisture",), "wet")


class Link:
    def __init__(self):
        self.retained = {}
        self.retained_topic = None

    def publish_retained(self, key, payload):
        self.retained[key] = payload


def config(ztype):
    raw = {"abort_window": 0, "users": USERS,
           "zones": [{"number": 3, "name": "the_zone", "type": ztype}]}
    return Config(raw, os.urandom)


def panel_alarm(ztype):
    # The signal a trip raises: disarmed for a 24-hour type, armed Away
    # otherwise (and for tamper, a trouble while disarmed).
    p = Panel(config(ztype), 0)
    if not Z.kind(ztype)[Z.T_FLAGS] & Z.H24 or ztype == "tamper":
        for k in "1234A":
            p.press(0, k)
        p.tick(70000)
        assert p.phase == "armed_away"
        p.take()
    p.zone(80000, "the_zone", Z.kind(ztype)[Z.T_TRIP])
    return [o["signal"] for o in p.take() if "signal" in o]


def radio_events(ztype, value=1):
    s = Sensors()
    s.add(MAC, "the_zone", ztype)
    obj = Z.kind(ztype)[Z.T_OBJECTS][0]
    if obj == "button":
        value = 4      # long_press, the default press
    advert = bthome_encode.encode([("packet_id", 1), (obj, value)], MAC, None, 1)
    return s, [e for _, e in s.advert(MAC, advert) if e != "checkin"]


def views(ztype):
    """What every consumer makes of zone type ztype."""
    row = Z.kind(ztype)
    cfg = config(ztype)
    ha_cfg = json.loads(ha.zone_config("alarm/hub", "hub", 3, "the_zone", ztype, "the_zone"))
    link = Link()
    Presence(link, cfg.zones, None, "alarm", "hub").zone("the_zone", row[Z.T_TRIP])
    sensors, events = radio_events(ztype)
    simzone = sim.Zone({"number": 3, "name": "the_zone", "type": ztype, "mac": MAC})
    return {
        "config_flags": cfg.zones.flags[0] & (Z.H24 | Z.MOMENTARY | Z.CLOSES),
        "config_modes": cfg.zones.modes[0],
        "panel_event": panel_alarm(ztype)[0]["event"],
        "ha_class": ha_cfg["device_class"],
        "ha_momentary": "off_delay" in ha_cfg,
        "presence": link.retained.get(0x100),
        "radio_objects": list(sensors.by_mac[MAC][S_TRIP_ON][:len(row[Z.T_OBJECTS])]),
        "radio_trip": events,
        "sim_object": simzone.object,
    }


def expected(row):
    trip = row[Z.T_TRIP]
    if row[Z.T_NAME] == "panic":
        trip = "press"          # a button's long press
    return {
        "config_flags": row[Z.T_FLAGS],
        "config_modes": row[Z.T_MODES],
        "panel_event": row[Z.T_EVENT],
        "ha_class": row[Z.T_CLASS],
        "ha_momentary": bool(row[Z.T_FLAGS] & Z.MOMENTARY),
        "presence": b"ON",
        "radio_objects": list(row[Z.T_OBJECTS]),
        "radio_trip": [trip],
        "sim_object": row[Z.T_OBJECTS][0],
    }


@pytest.mark.parametrize("ztype", [t[Z.T_NAME] for t in Z.TYPES])
def test_every_consumer_sees_the_tables_row(ztype):
    assert views(ztype) == expected(Z.kind(ztype))


def test_the_table_is_what_it_was():
    # The behaviour before the table, written out once more: a change to a
    # row is a change of behaviour and must be meant.
    assert [(t[Z.T_NAME], t[Z.T_FLAGS] & (Z.H24 | Z.MOMENTARY), t[Z.T_MODES], t[Z.T_EVENT],
             t[Z.T_CLASS], t[Z.T_TRIP]) for t in Z.TYPES] == [
        ("contact", 0, Z.HOME | Z.AWAY, CID.BURGLARY, "opening", "open"),
        ("motion", Z.MOMENTARY, Z.AWAY, CID.BURGLARY, "motion", "motion"),
        ("glass_break", Z.MOMENTARY, Z.HOME | Z.AWAY, CID.BURGLARY, "vibration", "glass_break"),
        ("panic", Z.H24 | Z.MOMENTARY, Z.HOME | Z.AWAY, CID.PANIC, "safety", "press"),
        ("tamper", Z.H24, Z.HOME | Z.AWAY, CID.TAMPER, "tamper", "open"),
        ("fire", Z.H24, Z.HOME | Z.AWAY, CID.FIRE, "smoke", "open")]
    # Only a contact reports its closing; its alarm events rank as alarms.
    assert [t[Z.T_NAME] for t in Z.TYPES if t[Z.T_FLAGS] & Z.CLOSES] == ["contact"]
    assert all(CID.rank("E", t[Z.T_EVENT]) == CID.ALARM for t in Z.TYPES)
    # The simulation's page rows name table types only.
    assert set(sim_types.PAGE) <= set(t[Z.T_NAME] for t in Z.TYPES)


def test_a_type_added_to_the_table_alone_works_everywhere(monkeypatch):
    monkeypatch.setattr(Z, "TYPES", Z.TYPES + (LEAK,))
    # Derived when the simulation is imported, as after an edit of the table.
    monkeypatch.setattr(sim, "_VALUE", sim_types.values())
    assert views("leak") == expected(LEAK)
    # The config names it among the types it accepts.
    with pytest.raises(Exception) as e:
        config("lava")
    assert "leak" in str(e.value)
    # A 24-hour alarm with its own event and the siren, while disarmed.
    p = Panel(config("leak"), 0)
    p.zone(1000, "the_zone", "wet")
    assert p.state == "triggered" and p.siren == "steady"
    # Latching, not momentary: the zone stays open until it is dry.
    assert p.zones.is_(0, Z.OPEN)
    # The simulation offers its trip on the page, sends the advert the radio
    # turns into that trip, and says it.
    simzone = sim.Sensors({"zones": [{"number": 3, "name": "the_zone", "type": "leak",
                                      "mac": MAC}]})
    assert simzone.zones[0].events() == ["wet"]
    kind, mac, hexdata = simzone.input_for("the_zone", "wet")
    s = Sensors()
    s.add(MAC, "the_zone", "leak")
    assert ("the_zone", "wet") in s.advert(mac, bytes.fromhex(hexdata))
    assert happened.zone_text("the_zone", "wet") == "The zone wet"


def test_the_simulations_words_cover_every_page_event():
    for ztype in [t[Z.T_NAME] for t in Z.TYPES]:
        for event in sim_types.page_events(ztype):
            assert event in happened.ZONE_ACTION
            assert event in sim._VALUE
