# The outbox with two report paths (MQTT and DC-09): a signal stays until
# every path acked it, or the first with first=True; per-path acks survive a
# power cut (journal and full rewrite) and old files stay readable.
from uplink.outbox import Outbox, MemStore

BOTH = ["mqtt", "dc09"]


def sig(seq, q="E", event=130):
    return {"code": "%s%03d" % (q, event), "event": event, "qualifier": q, "seq": seq, "zone": 1}


class Journal(MemStore):
    # As FileStore: appends between full rewrites, all read back by load().
    def append(self, line):
        self.lines = list(self.lines or []) + [line]


def test_each_path_must_ack():
    box = Outbox(MemStore(), paths=BOTH)
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


def test_first_ack_is_enough_by_option():
    box = Outbox(MemStore(), paths=BOTH, first=True)
    box.put(sig(1))
    box.put(sig(2))
    assert box.ack([2], "dc09") == 1 and box.ack([1], "mqtt") == 1 and box.seqs() == []


def test_one_path_acks_as_before():
    for paths in (None, ["mqtt"], ["dc09"]):
        box = Outbox(MemStore(), paths=paths)
        box.put(sig(1))
        assert box.ack([1], "mqtt" if paths is None else paths[0]) == 1
        assert box.acked is None                            # no per-path record kept


def test_path_acks_survive_a_power_cut_journal_and_rewrite():
    store = Journal()
    box = Outbox(store, paths=BOTH)
    for s in (1, 2, 3):
        box.put(sig(s), s)
    box.ack([1, 3], "dc09")
    box.ack([2], "mqtt")
    assert b'["ack", [1, 3], "dc09"]' in store.lines or b'["ack",[1,3],"dc09"]' in store.lines
    again = Outbox(store, paths=BOTH)
    assert again.seqs() == [1, 2, 3]
    assert again.done(1, "dc09") and again.done(3, "dc09") and again.done(2, "mqtt")
    assert not again.done(1, "mqtt")
    again._save()                                           # a full rewrite keeps them too
    third = Outbox(MemStore(list(store.lines)), paths=BOTH)
    assert third.acked == again.acked
    assert third.ack([1], "mqtt") == 1 and third.seqs() == [2, 3]


def test_old_file_reads_and_a_path_dropped_from_the_config_keeps_the_signal():
    old = [b'{"v":1,"last_seq":5,"dropped":0,"epoch":7}', b'[4,0,{"seq":4}]',
           b'[5,0,{"seq":5}]', b'["ack",[4]]']
    box = Outbox(MemStore(list(old)), paths=BOTH)
    assert box.seqs() == [5] and not box.damaged and box.epoch == 7
    # Acked by DC-09 only, then the hub is set to MQTT only: MQTT must still send it.
    lines = list(old) + [b'["ack",[5],"dc09"]']
    box = Outbox(MemStore(lines), paths=["mqtt"])
    assert box.seqs() == [5] and not box.damaged


def test_overflow_report_taking_a_seq_forgets_its_acks():
    box = Outbox(MemStore(), capacity=2, paths=BOTH)
    box.put(sig(1, "R", 401))
    box.ack([1], "mqtt")
    box.put(sig(2))
    box.put(sig(3))                      # drops 1: seq 1 now carries the E624 report
    assert box.entries()[0][2]["event"] == 624
    assert not box.done(1, "mqtt")       # neither path has sent the report
