"""What the service refuses to act on, what it acks again, and hub health."""
import json
import time

from uplink import wire
from uplink import wire_host

from desk_helpers import SECRET, add_account, query
from engine_rig import Rig
from waiting import until


def _alarm(seq, code="E130", secret=SECRET, hub="hub-1", **extra):
    return wire.event(secret, hub, int(time.time()),
                      dict({"code": code, "event": int(code[1:]), "qualifier": code[0],
                            "seq": seq, "zone": 1}, **extra))


def test_bad_input_is_rejected_counted_and_never_acted_on(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    other = bytes(32)
    h = hubs({"hub-1": SECRET, "hub-x": other})
    h.publish("hub-x", "events", _alarm(1, secret=other, hub="hub-x"))      # unknown hub
    bad = json.loads(_alarm(2))
    bad["mac"] = "0" * 64
    h.publish("hub-1", "events", wire.canonical(bad))                       # bad MAC
    h.publish("hub-1", "events", _alarm(3, secret=other))                   # wrong secret
    h.publish("hub-1", "events", b'{"v":1,"type":"event",')                 # malformed JSON
    h.publish("hub-1", "events", b"[1,2,3]")                                # not an object
    h.publish("hub-1", "events", _alarm(4, pad="x" * 4200))                  # oversize
    h.publish("hub-1", "events", _alarm(5, hub="hub-2"))                    # body names another hub
    v2 = json.loads(_alarm(6))
    v2["v"] = 2
    h.publish("hub-1", "events", wire.sign(SECRET, v2))                     # another version
    h.publish("hub-1", "events", wire_host.ack(SECRET, "hub-1", [7]))            # an ack is no event
    want = {"rejected": 9, "rejected_unknown_hub": 1, "rejected_bad_mac": 2,
            "rejected_malformed": 2, "rejected_oversize": 1, "rejected_bad_event": 3}
    assert until(lambda: rx.counters() == want), rx.counters()
    assert query(db, "SELECT * FROM signals") == []
    assert query(db, "SELECT * FROM cases") == []
    assert not h.acked and not lines.all
    # A good event after all that is handled normally.
    h.signal("hub-1", "E602")
    assert h.wait_acked()
    assert rx.counters()["stored"] == 1


def test_replay_is_acked_again_but_not_acted_on_again(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    seq = h.signal("hub-1", "E130", zone=1)
    assert h.wait_acked()
    lines.wait(step="dispatch")
    first_ack = h.acked.pop(("hub-1", seq))
    h.resend_unacked()                                    # the hub never saw the ack
    assert h.wait_acked()
    assert h.acked[("hub-1", seq)] > first_ack
    assert h.bad_acks == 0
    time.sleep(0.5)
    assert rx.counters() == {"stored": 1, "duplicate": 1}
    assert len(query(db, "SELECT * FROM cases")) == 1
    assert len(query(db, "SELECT * FROM dispatches")) == 1
    assert len(lines.where(step="open")) == 1


def test_ack_is_signed_for_the_hub_and_only_after_the_signal_is_stored(db, monitor, hubs, broker,
                                                                       prefix):
    import paho.mqtt.client as mqtt
    add_account(db)
    rx, lines = monitor()
    seen = []

    def on_message(c, u, msg):
        # At the moment the ack arrives the signal must already be in the store.
        body = json.loads(msg.payload)
        stored = query(db, "SELECT seq FROM signals WHERE hub = 'hub-1'")
        seen.append((body, [r["seq"] for r in stored]))
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_message = on_message
    c.connect("127.0.0.1", broker.port)
    c.subscribe(prefix + "/hub-1/acks", 1)
    c.loop_start()
    try:
        time.sleep(0.3)
        h = hubs()
        for _ in range(5):
            h.signal("hub-1", "E602")
        assert h.wait_acked()
        assert until(lambda: sum(len(b["seqs"]) for b, _ in seen) >= 5)
    finally:
        c.disconnect()
        c.loop_stop()
    for body, stored in seen:
        assert wire.check_ack(body, "hub-1", SECRET) == body["seqs"]
        assert set(body["seqs"]) <= set(stored)


def test_offline_hub_opens_a_trouble_case_and_online_closes_it(db, monitor, hubs):
    add_account(db)
    h = hubs()
    h.publish("hub-1", "availability", b"offline", retain=True, wait=True)
    rx, lines = monitor()           # the retained offline is there before the service starts
    opened = lines.wait(step="open", plan="trouble")
    assert opened["reason"] == "offline"
    h.publish("hub-1", "availability", b"offline", retain=True, wait=True)
    h.publish("hub-1", "availability", b"online", retain=True, wait=True)
    closed = lines.wait(step="close")
    assert (closed["case"], closed["reason"]) == (opened["case"], "online")
    assert len(lines.where(step="open")) == 1
    h.publish("hub-1", "availability", b"", retain=True, wait=True)


def test_overdue_test_report_opens_a_trouble_case_and_the_next_report_closes_it(db):
    rig = Rig(db, test_grace_ms=10_000).account(test_interval_s=60)
    rig.signal("E602")
    rig.advance(70_000 - 1)
    assert not rig.where(step="open")                # reported in time
    rig.advance(1)
    opened = rig.where(step="open")
    assert [(l["plan"], l["reason"]) for l in opened] == [("trouble", "test_overdue")]
    rig.advance(10 * 70_000)
    assert len(rig.where(step="open")) == 1         # one trouble case, not one per check
    rig.signal("E602")
    closed = rig.where(step="close")
    assert [(l["case"], l["reason"]) for l in closed] == [(opened[0]["case"], "test_received")]
