# The outbox's queueing, priorities, overflow and persistence, under both runtimes.
from uplink.outbox import Outbox, MemStore, FileStore, priority, ALARM, TROUBLE, LOW


def sig(seq, q="E", event=130):
    return {"code": "%s%03d" % (q, event), "event": event, "qualifier": q, "seq": seq,
            "zone": 1, "name": "front_door"}


def test_priorities():
    assert priority(sig(1)) == ALARM
    assert priority(sig(1, "E", 121)) == ALARM
    assert priority(sig(1, "R", 130)) == LOW
    assert priority(sig(1, "E", 401)) == LOW
    assert priority(sig(1, "E", 384)) == TROUBLE


def test_put_ack_in_seq_order():
    box = Outbox(MemStore(), capacity=8)
    for s in (3, 1, 2):
        box.put(sig(s), 100 + s)
    box.put(sig(2))                       # a duplicate seq is ignored
    assert box.seqs() == [1, 2, 3]
    assert box.entries()[0] == [1, 101, sig(1)]
    assert box.ack([1, 3, 42]) == 2
    assert box.seqs() == [2]
    assert box.last_seq == 3


def test_overflow_drops_low_then_trouble_never_alarms():
    box = Outbox(MemStore(), capacity=4)
    box.put(sig(1, "R", 401))
    box.put(sig(2, "E", 384))
    box.put(sig(3))
    box.put(sig(4))
    assert box.put(sig(5)) == 1                      # the open/close goes first
    assert box.seqs() == [1, 2, 3, 4, 5]             # seq 1 now carries the overflow report
    over = box.entries()[0][2]
    assert over["code"] == "E624" and over["lost"] == [1] and over["dropped"] == 1
    assert box.put(sig(6)) == 2                      # then trouble; the report is replaced
    assert box.seqs() == [2, 3, 4, 5, 6]
    over = box.entries()[0][2]
    assert over["event"] == 624 and over["lost"] == [1, 2] and over["dropped"] == 2
    assert box.put(sig(7)) is None                   # only alarms left: the queue grows
    assert box.put(sig(8, "R", 401)) == 8            # a low-priority newcomer is refused
    assert 7 in box.seqs() and 3 in box.seqs()
    for e in box.entries():
        if e[2]["event"] != 624:
            assert priority(e[2]) == ALARM


def test_persistence_roundtrip():
    store = MemStore()
    box = Outbox(store, capacity=2)
    for s in (1, 2, 3):
        box.put(sig(s, "R", 401), s)
    again = Outbox(store, capacity=2)
    assert again.entries() == box.entries()
    assert again.last_seq == 3 and again.dropped == box.dropped
    assert not again.damaged


def test_a_damaged_line_keeps_every_record_after_it():
    box = Outbox(MemStore([b'{"v":1,"last_seq":9,"dropped":0}', b'[4,0,{"seq":4}]', b"garbage",
                           b'[5,0,{"seq":5}]', b'["ack",[4]]', b'[6,"x",{"seq":6}]', b'[7]',
                           b'[8,0,{"seq":8}]']))
    assert box.damaged == 3        # garbage, a bad time, a short entry
    assert box.seqs() == [5, 6, 8]                   # the ack after the damage still applies
    assert box.entries()[1] == [6, 0, {"seq": 6}]


def test_a_damaged_header_loses_no_entry_and_no_seq():
    box = Outbox(MemStore([b'{"v":1,"last_s\xff', b'[4,0,{"seq":4}]', b'[12,0,{"seq":12}]',
                           b'["ack",[12]]']))
    assert box.damaged == 1 and box.seqs() == [4]
    assert box.last_seq == 12                        # an acked seq is never used again
    assert box.epoch is None
    box = Outbox(MemStore([b'[4,0,{"seq":4}]']))    # no header at all
    assert box.damaged == 1 and box.seqs() == [4] and box.last_seq == 4
    box = Outbox(MemStore([b'{"v":1,"last_seq":"9","dropped":[],"epoch":1.5}',
                           b'[4,0,{"seq":4}]']))
    assert box.last_seq == 4 and box.dropped == 0 and box.epoch is None


def test_the_epoch_is_kept_with_the_queue():
    store = MemStore()
    box = Outbox(store)
    assert box.epoch is None
    box.set_epoch(123456)
    assert store.saves == 1
    box.put(sig(1))
    box.ack([1])
    again = Outbox(store)
    assert again.epoch == 123456 and again.last_seq == 1 and not again.damaged


def test_a_journal_line_torn_by_a_power_cut_is_ignored():
    box = Outbox(MemStore([b'{"v":1,"last_seq":9,"dropped":0}', b'[4,0,{"seq":4}]',
                           b'[5,0,{"seq":5}]', b'["ack",[4]]', b'[6,0,{"se']))
    assert not box.damaged
    assert box.seqs() == [5]


def test_file_store_replaces_atomically():
    import os
    path = "/tmp/uplink_outbox_test_%d.jsonl" % os.getpid() if hasattr(os, "getpid") \
        else "/tmp/uplink_outbox_test.jsonl"
    store = FileStore(path)
    box = Outbox(store)
    box.put(sig(1), 5)
    box.put(sig(2), 6)
    box.ack([1])
    again = Outbox(FileStore(path))
    assert [(e[0], e[1], again.signal(e)) for e in again.entries()] == [(2, 6, sig(2))]
    os.rename(path, path + ".new")       # as if we died between remove and rename
    again = Outbox(FileStore(path))
    assert [(e[0], e[1], again.signal(e)) for e in again.entries()] == [(2, 6, sig(2))]
    os.remove(path + ".new")


def test_queued_signals_wait_on_flash_and_are_read_back_to_send():
    # On flash the queue holds each signal once, in its file: RAM keeps only
    # where it is (a board without PSRAM cannot hold 65 signal dicts), and the
    # report paths read it back when they send it.
    import os
    from uplink.outbox import alarm_waiting
    path = "/tmp/uplink_outbox_flash_%d.jsonl" % os.getpid() if hasattr(os, "getpid") \
        else "/tmp/uplink_outbox_flash.jsonl"
    for old in (path, path + ".new"):
        try:
            os.remove(old)                # left by a run that failed
        except OSError:
            pass
    box = Outbox(FileStore(path), capacity=6)
    box.journal_limit = 4                 # rewrites of the whole file come often too
    for s in range(1, 13):
        box.put(sig(s, "E", 401 if s % 3 else 384), 1000 + s)
    assert not alarm_waiting(box)
    box.put(sig(13), 1013)
    box.ack([13])
    box.put(sig(14), 1014)
    assert alarm_waiting(box)
    for e in box.entries():
        assert not isinstance(e[2], dict), e          # nothing of the signal in RAM
    got = [(e[0], e[1], box.signal(e)) for e in box.entries()]
    over = [g for g in got if g[2]["event"] == 624]
    assert len(over) == 1 and over[0][2]["dropped"] == box.dropped > 0
    assert over[0][2]["lost"][-1] == over[0][0]
    rest = [g for g in got if g[2]["event"] != 624]
    assert rest and all(g[2] == sig(g[0], "E", g[2]["event"]) and g[1] == 1000 + g[0]
                        for g in rest)
    assert 14 in [g[0] for g in rest] and 13 not in box.seqs()
    again = Outbox(FileStore(path), capacity=16)  # after a power cut: the same queue
    assert [(e[0], e[1], again.signal(e)) for e in again.entries()] == got
    again.put(sig(15), 1015)                      # the first write after boot rewrites it
    assert [(e[0], e[1], again.signal(e)) for e in again.entries()][:-1] == got
    assert again.signal(again.entries()[-1]) == sig(15)
    os.remove(path)
