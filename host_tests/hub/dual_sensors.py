# BLE sensors: only fresh, authentic adverts from enrolled sensors reach the panel.
from radio import bthome
from radio import bthome_encode
from radio.sensors import Sensors
from radio.scanner import service_data

MAC = "3C:2E:F5:00:00:01"
KEY = "231d39c1d7cc1ab1aee224cd096db932"
KEYB = bytes(bytearray([int(KEY[i:i + 2], 16) for i in range(0, 32, 2)]))


def sensors():
    s = Sensors()
    s.add(MAC, "front_door", "contact", KEY)
    s.add("3C:2E:F5:00:00:04", "hall_motion", "motion")
    return s


def door(value, counter, pid):
    return bthome_encode.encode([("packet_id", pid), ("battery", 90), ("door", value)], MAC, KEYB, counter)


def test_door_opens_and_closes():
    s = sensors()
    assert s.advert(MAC, door(1, 10, 1)) == [("front_door", "battery_ok"), ("front_door", "open"),
                                             ("front_door", "checkin")]
    assert s.advert(MAC, door(0, 11, 2)) == [("front_door", "close"), ("front_door", "checkin")]
    # The same state again (periodic report) is a check-in, not a new trip.
    assert s.advert(MAC, door(0, 12, 3)) == [("front_door", "checkin")]


def test_replayed_counter_is_rejected():
    s = sensors()
    first = door(1, 10, 1)
    s.advert(MAC, first)
    assert s.advert(MAC, first) == []
    assert s.advert(MAC, door(0, 9, 2)) == []
    assert s.counts["replayed"] == 2


def test_counters_survive_a_reboot():
    s = sensors()
    s.advert(MAC, door(1, 10, 1))
    saved = s.counters()
    t = sensors()
    t.restore_counters(saved)
    assert t.advert(MAC, door(1, 10, 1)) == []
    assert t.counts["replayed"] == 1


def test_forged_and_plain_adverts_from_a_keyed_sensor_are_rejected():
    s = sensors()
    good = bytearray(door(1, 10, 1))
    good[-1] ^= 1
    assert s.advert(MAC, bytes(good)) == []
    plain = bthome_encode.encode([("door", 1)], MAC)
    assert s.advert(MAC, plain) == []
    assert s.counts["forged"] == 2


def test_garbage_is_counted_never_raised():
    s = sensors()
    seed = 12345
    for n in range(300):
        data = bytearray()
        for _ in range(n % 23):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            data.append(seed >> 16 & 0xFF)
        assert s.advert(MAC, bytes(data)) == []
    assert s.counts["malformed"] + s.counts["forged"] == 300


def test_unknown_sensors_are_ignored_unless_enrolling():
    s = sensors()
    other = "AA:BB:CC:DD:EE:FF"
    assert s.advert(other, bthome_encode.encode([("motion", 1)], other)) == []
    assert s.heard == {}
    s.enrolling = True
    s.advert(other, bthome_encode.encode([("motion", 1)], other), -70)
    assert s.heard == {other: (-70, False)}


def test_repeated_packet_id_is_one_trip():
    s = sensors()
    m = "3C:2E:F5:00:00:04"
    adv = bthome_encode.encode([("packet_id", 7), ("motion", 1)], m)
    assert s.advert(m, adv) == [("hall_motion", "motion"), ("hall_motion", "checkin")]
    assert s.advert(m, adv) == [("hall_motion", "checkin")]
    adv = bthome_encode.encode([("packet_id", 8), ("motion", 1)], m)
    assert s.advert(m, adv) == [("hall_motion", "motion"), ("hall_motion", "checkin")]


def test_battery_low_has_hysteresis():
    s = sensors()
    m = "3C:2E:F5:00:00:04"
    ev = []
    for pid, pct in ((1, 50), (2, 19), (3, 21), (4, 18), (5, 30)):
        ev.extend(e for z, e in s.advert(m, bthome_encode.encode([("packet_id", pid), ("battery", pct)], m))
                  if e != "checkin")
    assert ev == ["battery_ok", "battery_low", "battery_ok"]


def test_button_press_is_a_panic_press_and_glass_break_follows_its_object():
    s = Sensors()
    s.add("00:00:00:00:00:06", "panic_button", "panic")
    s.add("00:00:00:00:00:05", "living_glass", "glass_break", objects=["vibration"])
    b = bthome_encode.encode([("packet_id", 1), ("button", 4)], "00:00:00:00:00:06")
    assert ("panic_button", "press") in s.advert("00:00:00:00:00:06", b)
    v = bthome_encode.encode([("packet_id", 1), ("vibration", 1)], "00:00:00:00:00:05")
    assert ("living_glass", "glass_break") in s.advert("00:00:00:00:00:05", v)


def test_service_data_is_found_in_an_advert():
    payload = door(1, 10, 1)
    adv = bytes([2, 1, 6]) + bytes([len(payload) + 3, 0x16, 0xD2, 0xFC]) + payload
    assert service_data(adv) == payload
    assert service_data(bytes([2, 1, 6])) is None
    assert service_data(bytes([40, 0x16, 0xD2])) is None     # length runs past the end
    assert service_data(b"") is None


def test_battery_and_signal_are_reported_on_change_only():
    from radio.sensors import news
    s = sensors()
    s.advert(MAC, door(1, 10, 1), -60)
    assert news(s.last) == {"battery": 90, "rssi": -60}
    s.advert(MAC, door(0, 11, 2), -63)
    assert news(s.last) is None                 # a few dB of jitter
    s.advert(MAC, door(1, 12, 3), -75)
    assert news(s.last) == {"battery": 90, "rssi": -75}
