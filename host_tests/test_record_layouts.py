"""Records the firmware passes between modules as tuples or lists, read by
named positions: const() folds only within a module, so each module that
reads one keeps its own copy of the positions (free on the board, where a
folded const costs no global). Here every copy is held to its owner's."""
from drivers import keypad_scan
from hub import boot, hub, presence
from panel import codes, config, panel
from uplink import dc09_link, link, outbox, outbox_paths


def test_a_users_entry_is_read_alike_everywhere():
    entry = codes.Codes(lambda n: bytes(n))
    entry.add(7, "alice", "duress", code="1234")
    e = entry.entries[0]
    assert (e[codes._NUMBER], e[codes._NAME], e[codes._ROLE]) == (7, "alice", "duress")
    for m in (panel, config):
        assert m._NUMBER == codes._NUMBER, m
    assert (panel._NAME, panel._ROLE) == (codes._NAME, codes._ROLE)


def test_an_outbox_entry_is_read_alike_by_every_report_path():
    box = outbox.Outbox()
    box.put({"code": "E130", "event": 130, "qualifier": "E", "seq": 9}, 1700000000)
    e = box.entries()[0]
    assert (e[outbox._SEQ], e[outbox._TIME_S], box.signal(e)["code"]) == (9, 1700000000, "E130")
    for m in (link, dc09_link, outbox_paths):
        assert m._SEQ == outbox._SEQ, m
    assert link._TIME_S == outbox._TIME_S


def test_keypad_events_are_read_alike():
    class Pin:
        def __init__(self, v=1):
            self.v = v

        def value(self, v=None):
            if v is None:
                return self.v
            self.v = v
    scan = keypad_scan.KeypadScanner([Pin()], [Pin(0)], ["1"])
    events = []
    for _ in range(5):
        events.extend(scan.poll())
    assert events and events[0][hub._KIND] == "press" and events[0][hub._KEYS] == "1"


def test_the_room_boot_holds_is_the_retained_table_presence_makes():
    assert boot._RETAINED_OWN == presence._OWN_KEYS
