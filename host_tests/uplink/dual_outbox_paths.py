# The outbox with two report paths (MQTT and DC-09): a signal stays until
# every path acked it, or the first with first=True; per-path acks survive a
# power cut in their own journal beside the queue's file, which keeps its format.
from uplink.outbox import Outbox, MemStore
from uplink.outbox_paths import PathsOutbox, View

BOTH = ["mqtt", "dc09"]


def sig(seq, q="E", event=130):
    return {"code": "%s%03d" % (q, event), "event": event, "qualifier": q, "seq": seq, "zone": 1}


class Journal(MemStore):
    # As FileStore: appends between full rewrites, all read back by load().
    def append(self, line):
        self.lines = list(self.lines or []) + [line]


def test_each_path_must_ack():
    box = PathsOutbox(MemStore(), paths=BOTH)
    for s in (1, 2, 3):
        box.put(sig(s))
    assert box.ack([1, 2], "mqtt") == 0
    assert box.seqs() == [1, 2, 3]
    assert box.done(1, "mqtt") and not box.done(1, "dc09") and not box.done(3, "mqtt")
    assert box.ack([1, 2], "mqtt") == 0                     # a repeated ack changes nothing
    assert box.ack([2, 3], "dc09") == 1                     # 2 is done on both
    assert box.seqs() == [1, 3] and box.done(3, "dc09") and not box.done(3, "mqtt")
    assert box.ack([1], "dc09") == 1 and box.ack([3], "mqtt") == 1
    assert box.seqs() == [] and not box.acked


def test_views_show_each_path_what_it_owes():
    box = PathsOutbox(MemStore(), paths=BOTH)
    box.epoch = 9
    mqtt, dc09 = View(box, "mqtt"), View(box, "dc09")
    for s in (1, 2):
        box.put(sig(s))
    assert mqtt.ack([1]) == 0
    assert [e[0] for e in mqtt.entries()] == [2] and [e[0] for e in dc09.entries()] == [1, 2]
    assert dc09.ack([1]) == 1 and box.seqs() == [2] and mqtt.epoch == 9


def test_first_ack_is_enough_by_option():
    box = PathsOutbox(MemStore(), paths=BOTH, first=True)
    box.put(sig(1))
    box.put(sig(2))
    assert box.ack([2], "dc09") == 1 and box.ack([1], "mqtt") == 1 and box.seqs() == []


def test_path_acks_survive_a_power_cut_journal_and_rewrite():
    store, acks = Journal(), Journal()
    box = PathsOutbox(store, paths=BOTH, acks=acks)
    for s in (1, 2, 3):
        box.put(sig(s), s)
    box.ack([1, 3], "dc09")
    box.ack([2], "mqtt")
    assert acks.lines[-2:] == [b'["dc09", [1, 3]]', b'["mqtt", [2]]'] or \
        acks.lines[-2:] == [b'["dc09",[1,3]]', b'["mqtt",[2]]']
    again = PathsOutbox(store, paths=BOTH, acks=acks)
    assert again.seqs() == [1, 2, 3]
    assert again.done(1, "dc09") and again.done(3, "dc09") and again.done(2, "mqtt")
    assert not again.done(1, "mqtt")
    # Loading rewrote the acks file whole: the same state from it alone.
    third = PathsOutbox(MemStore(list(store.lines)), paths=BOTH, acks=MemStore(list(acks.lines)))
    assert third.acked == again.acked
    assert third.ack([1], "mqtt") == 1 and third.seqs() == [2, 3]
    # The queue's file is as an MQTT-only hub writes it: it reads it unchanged.
    plain = Outbox(MemStore(list(store.lines)))
    assert plain.seqs() == [1, 2, 3] and not plain.damaged


def test_journal_full_rewrites_and_a_torn_line_loses_no_signal():
    store, acks = Journal(), Journal()
    box = PathsOutbox(store, paths=BOTH, acks=acks)
    for s in range(1, 41):
        box.put(sig(s), s)
    for s in range(1, 41):
        box.ack([s], "dc09")
    assert len(acks.lines) < 40                              # rewritten whole on the way
    acks.lines.append(b'["mqtt", [1')                        # a power cut mid-append
    again = PathsOutbox(store, paths=BOTH, acks=acks)
    assert again.seqs() == list(range(1, 41))
    assert all(again.done(s, "dc09") and not again.done(s, "mqtt") for s in range(1, 41))


def test_a_path_dropped_from_the_config_decides_nothing():
    acks = MemStore([b'["sms", [5]]', b'["dc09", [5]]'])
    store = MemStore([b'{"v":1,"last_seq":5,"dropped":0,"epoch":7}', b'[5,0,{"seq":5}]'])
    box = PathsOutbox(store, paths=["mqtt", "dc09"], acks=acks)
    assert box.seqs() == [5] and box.done(5, "dc09") and not box.done(5, "sms")


def test_overflow_report_taking_a_seq_forgets_its_acks():
    acks = Journal()
    box = PathsOutbox(MemStore(), capacity=2, paths=BOTH, acks=acks)
    box.put(sig(1, "R", 401))
    box.ack([1], "mqtt")
    box.put(sig(2))
    box.put(sig(3))                      # drops 1: seq 1 now carries the E624 report
    assert box.entries()[0][2]["event"] == 624
    assert not box.done(1, "mqtt")       # neither path has sent the report
    again = PathsOutbox(MemStore(list(box.store.lines)), paths=BOTH, acks=acks)
    assert not again.done(1, "mqtt")     # nor after a power cut
