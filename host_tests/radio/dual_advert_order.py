# Adverts that piled up while the hub loop was busy. aioble hands its queue
# out newest first; the hub must still see a door open before it closes, and
# never take the older advert for a replay of the newer one.
from radio import bthome
from radio import bthome_encode
from radio.sensors import Sensors
from panel.config import Config
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG
from hub.hub import Hub

DOOR = "3C:2E:F5:00:00:01"
WINDOW = "3C:2E:F5:00:00:03"
KEY = bytes(range(16))


def door(value, counter):
    return bthome_encode.encode([("packet_id", counter & 0xFF), ("door", value)], DOOR, KEY, counter)


def window(value, pid):
    return bthome_encode.encode([("packet_id", pid), ("window", value)], WINDOW)


class _Store:
    def __init__(self):
        self.files = {}

    def save(self, name, value):
        self.files[name] = value

    def load(self, name, default=None):
        return self.files.get(name, default)


class _Seen:
    # Stands in for hub.presence: records what each zone did, in order.
    def __init__(self):
        self.events = []

    def zone(self, zone, event):
        self.events.append((zone, event))

    def sensor(self, s):
        pass

    def status(self, now, fn):
        pass


def rig():
    sensors = Sensors()
    sensors.add(DOOR, "front_door", "contact", KEY)
    sensors.add(WINDOW, "living_window", "contact")
    hub = Hub(Panel(Config(DEFAULT_CONFIG, lambda n: bytes(n)), 1000), _Store(),
              sensors=sensors, log=lambda now, item: None, clock=lambda: 1700000000)
    hub.presence = _Seen()
    return hub


def trips(hub, zone):
    return [e for z, e in hub.presence.events if z == zone and e != "checkin"]


def test_door_open_then_close_queued_newest_first_reaches_the_panel():
    hub = rig()
    hub.advert(DOOR, door(1, 10), -60)
    hub.step(1010)
    hub.advert(DOOR, door(0, 11), -60)
    hub.step(1020)
    # A loop stall: the door opens (12) and closes (13); aioble hands 13 first.
    hub.advert(DOOR, door(0, 13), -60)
    hub.advert(DOOR, door(1, 12), -60)
    hub.step(1030)
    assert trips(hub, "front_door") == ["open", "close", "open", "close"]
    assert hub.sensors.counts["replayed"] == 0


def test_plain_sensor_queued_newest_first_ends_in_its_last_state():
    hub = rig()
    hub.advert(WINDOW, window(0, 2), -60)      # newest: closed again
    hub.advert(WINDOW, window(1, 1), -60)      # oldest: opened
    hub.step(1010)
    assert trips(hub, "living_window") == ["open", "close"]


def test_counter_order_holds_however_the_queue_came_out():
    hub = rig()
    for c in (21, 24, 20, 23, 22):
        hub.advert(DOOR, door(c % 2, c), -60)
    hub.step(1010)
    assert trips(hub, "front_door") == ["close", "open", "close", "open", "close"]
    assert hub.sensors.counts["replayed"] == 0 and hub.sensors.counts["accepted"] == 5


def test_a_real_replay_in_the_same_batch_is_still_dropped():
    hub = rig()
    hub.advert(DOOR, door(1, 30), -60)
    hub.step(1010)
    hub.advert(DOOR, door(0, 31), -60)
    hub.advert(DOOR, door(1, 30), -60)         # captured earlier, sent again
    hub.step(1020)
    assert trips(hub, "front_door") == ["open", "close"]
    assert hub.sensors.counts["replayed"] == 1


def test_the_waiting_adverts_stay_bounded_and_repeats_take_no_room():
    hub = rig()
    same = door(1, 40)
    for _ in range(50):                         # a sensor repeats one advert
        hub.advert(DOOR, same, -60)
    assert hub.dropped_adverts == 0
    for pid in range(100):
        hub.advert(WINDOW, window(pid % 2, pid), -60)
    assert hub.dropped_adverts == 100 + 1 - hub.radio_queue
    hub.step(1010)
    assert "open" in trips(hub, "front_door")


def test_strangers_adverts_take_no_room_from_our_sensors():
    hub = rig()
    for n in range(100):                        # the neighbours' BTHome sensors
        mac = "AA:BB:CC:00:00:%02X" % n
        hub.advert(mac, bthome_encode.encode([("packet_id", n), ("motion", 1)], mac), -80)
    hub.advert(DOOR, door(1, 50), -60)
    assert hub.dropped_adverts == 0
    hub.step(1010)
    assert trips(hub, "front_door") == ["open"]
    assert hub.sensors.counts["unknown"] == 100


def test_strangers_are_still_heard_while_enrolling():
    hub = rig()
    hub.sensors.enrolling = True
    hub.advert("AA:BB:CC:00:00:01", bthome_encode.encode([("motion", 1)], "AA:BB:CC:00:00:01"), -80)
    hub.step(1010)
    assert "AA:BB:CC:00:00:01" in hub.sensors.heard
