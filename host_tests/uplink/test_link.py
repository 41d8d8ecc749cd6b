"""The uplink under the host micropython against a real mosquitto, checked with paho-mqtt."""
import time

from uplink import wire
from uplink import wire_host

from uplink_consts import HUB, SECRET


def test_events_arrive_signed_and_in_order(start_driver, monitor):
    m = monitor()
    n = 300
    d = start_driver(n=n, capacity=n, until_empty=True, per_poll=50, loop_ms=1, run_ms=20000)
    done = d.ev("done", timeout=30)
    assert done["outbox"] == 0, done
    assert not m.bad
    assert m.wait(lambda: len(m.seqs()) >= n), (len(m.seqs()), m.seqs()[:20], done)
    assert m.seqs()[:n] == list(range(1, n + 1))
    first = m.events[0]
    assert first["hub"] == HUB and first["v"] == 1 and first["type"] == "event"
    assert first["signal"] == {"code": "R401", "event": 401, "qualifier": "R", "seq": 1,
                               "user": 1, "name": "user 01"}
    assert abs(first["time"] - time.time()) < 60
    rate = n * 1000.0 / max(1, done["empty_at_ms"])
    print("\n%d signals published and acked end to end in %d ms: %.0f/s (stats %s)"
          % (n, done["empty_at_ms"], rate, done["stats"]))


def test_availability_online_retained_and_last_will(start_driver, monitor):
    d = start_driver(run_ms=30000, keepalive=5)
    d.ev("up")
    time.sleep(0.5)     # the state goes out on the first poll after connecting
    m = monitor(topics=("availability", "state"))
    got = {}
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        topic, payload, retain = m.other.get(timeout=5)
        got[topic] = (payload, retain)
    assert got["availability"] == (b"online", True)
    assert got["state"] == (b"disarmed", True)
    d.kill()
    topic, payload, retain = m.other.get(timeout=5)
    assert (topic, payload) == ("availability", b"offline")
    # ...and it stays retained for anyone who looks later.
    m2 = monitor(topics=("availability",))
    assert m2.other.get(timeout=5) == ("availability", b"offline", True)


def test_an_idle_link_reads_only_when_the_broker_sent_something(start_driver, monitor):
    # The loop polls the link every 10 ms; asking umqtt for a message on each
    # pass (three timeout changes and a read) was most of a connected pass's
    # cost. A command still arrives on the next pass.
    m = monitor()
    d = start_driver(run_ms=4000, loop_ms=10, keepalive=60)
    d.ev("up")
    time.sleep(1.5)
    sent = time.monotonic()
    m.publish("commands", b'{"action": "DISARM", "code": "1234"}')
    assert d.ev("command")["cmd"] == {"action": "DISARM", "code": "1234"}
    latency = time.monotonic() - sent
    done = d.ev("done", timeout=10)
    assert done["iterations"] > 100, done
    assert done["reads"] <= 5, done          # the command (and its retained state echo)
    assert latency < 0.5, latency


def test_acks_remove_entries(start_driver, monitor):
    m = monitor(auto_ack=False)
    d = start_driver(n=10, run_ms=30000, resend_ms=60000)
    d.ev("outbox", len=10)
    assert m.wait(lambda: len(m.seqs()) == 10)
    m.ack([1, 2, 3, 4, 5])
    d.ev("outbox", len=5)
    m.ack([5, 6, 7, 99])             # a repeat and an unknown seq are harmless
    d.ev("outbox", len=3)
    m.ack([8, 9, 10])
    d.ev("outbox", len=0)
    assert m.seqs() == list(range(1, 11))   # nothing resent before its resend time


def test_unacked_signals_are_resent(start_driver, monitor):
    m = monitor(auto_ack=False)
    start_driver(n=3, run_ms=30000, resend_ms=500)
    assert m.wait(lambda: len(m.seqs()) >= 6, timeout=5)
    assert sorted(set(m.seqs())) == [1, 2, 3]


def test_broker_outage_loses_nothing_and_never_stalls_the_loop(broker, start_driver, monitor):
    m = monitor()
    n = 60
    d = start_driver(n=n, every_ms=100, run_ms=60000, until_empty=True, resend_ms=1000)
    d.ev("up")
    assert m.wait(lambda: len(m.seqs()) >= 10, timeout=5)
    broker.stop()
    d.ev("down", timeout=5)
    time.sleep(3)
    broker.start()
    up = d.ev("up", timeout=10)
    assert up["connects"] >= 2
    done = d.ev("done", timeout=30)
    assert done["outbox"] == 0, done
    assert sorted(set(m.seqs())) == list(range(1, n + 1))
    assert not m.bad
    print("\noutage: max loop gap %d ms over %d iterations; stats %s"
          % (done["max_gap_ms"], done["iterations"], done["stats"]))
    assert done["max_gap_ms"] < 300, done


def test_malformed_acks_and_commands_are_counted_and_dropped(start_driver, monitor):
    m = monitor(auto_ack=False)
    # A retained command left on the broker must not be acted on when the hub connects.
    stale = wire_host.command(SECRET, HUB, 1, int(time.time()), "DISARM", code="1234")
    m.publish("commands", stale, retain=True)
    d = start_driver(n=2, run_ms=30000, resend_ms=60000)
    d.ev("up")
    assert m.wait(lambda: len(m.seqs()) == 2)
    bad_acks = [b"", b"\xff\xfe", b"{", b"[1,2]", b'{"seqs":"1"}', b'{"seqs":[1,"2"]}',
                b'{"seqs":[1.5]}',
                wire_host.ack(b"wrong secret", HUB, [1, 2]),
                wire_host.ack(SECRET, "other-hub", [1, 2])]
    for p in bad_acks:
        m.publish("acks", p)
    m.ack([1, 2], signed=False)          # unsigned acks are refused by default
    now = int(time.time())
    bad_cmds = [b"", b"not json", b"\xff", b"[]", b'{"action":1}',
                b'{"action":"PANIC"}',                 # unsigned PANIC/SOS: refused
                b'{"action":"SOS","service":"police"}',
                wire_host.command(b"wrong secret", HUB, 5, now, "ARM_AWAY"),
                wire_host.command(SECRET, "other-hub", 5, now, "ARM_AWAY"),
                wire_host.command(SECRET, HUB, 5, now - 3600, "ARM_AWAY")]       # stale ts
    for p in bad_cmds:
        m.publish("commands", p)
    m.publish("commands", wire_host.command(SECRET, HUB, 7, now, "ARM_HOME", code="1234"))
    cmd = d.ev("command")["cmd"]
    assert cmd["action"] == "ARM_HOME" and cmd["code"] == "1234" and cmd["id"] == 7
    m.publish("commands", wire_host.command(SECRET, HUB, 7, now, "ARM_HOME", code="1234"))  # replay
    # Home Assistant's unsigned form for arm/disarm goes through; the panel checks its code.
    m.publish("commands", b'{"action": "DISARM", "code": "1234"}')
    cmd = d.ev("command")["cmd"]
    assert cmd == {"action": "DISARM", "code": "1234"}
    m.ack([1, 2])
    d.ev("outbox", len=0)
    d.kill()   # the stats come from a clean shutdown below instead
    d2 = start_driver(run_ms=1500)
    done2 = d2.ev("done", timeout=10)
    assert done2["stats"]["retained_ignored"] == 1, done2
    # Clean up the retained command.
    m.publish("commands", b"", retain=True)


def test_bad_input_counts(start_driver, monitor):
    m = monitor(auto_ack=False)
    d = start_driver(n=1, run_ms=4000, resend_ms=60000)
    d.ev("up")
    assert m.wait(lambda: len(m.seqs()) == 1)
    for p in (b"{", b'{"seqs":"x"}', b'{"seqs":[1]}'):          # the last one is unsigned
        m.publish("acks", p)
    for p in (b"nope", b'{"action":"PANIC"}'):                    # PANIC only signed
        m.publish("commands", p)
    done = d.ev("done", timeout=10)
    s = done["stats"]
    assert s["bad_acks"] == 3 and s["bad_commands"] == 2 and s["commands"] == 0, s
    assert done["outbox"] == 1
