# A broker that answers SUBSCRIBE late (a NATS node makes a replicated
# JetStream consumer for a QoS 1 subscription first: 0.4-0.8 s on an idle
# machine, seconds under load). The link waits for the SUBACK across loop
# passes without blocking the loop, keeps its session meanwhile, and sends
# the queued signals once the acks topic is subscribed.
from uplink.link import Link
from uplink.outbox import Outbox, MemStore
import fake_umqtt
from dual_link_brokers import signal, events  # the same signal and topic

HUB = "hub-1"
NODES = [("node-a", 1883), ("node-b", 1884)]


def rig(brokers=None):
    broker = fake_umqtt.Broker()
    broker.hold_subacks = True
    box = Outbox(MemStore(), capacity=16)
    link = Link(box, HUB, b"s" * 32, "node-a", brokers=brokers,
                mqtt=fake_umqtt.Module(broker), rand=lambda n: 0)
    return link, broker, box


def run(link, start, ms, step=10):
    now = start
    while now < start + ms:
        link.poll(now)
        now += step
    return now


def test_a_late_suback_keeps_the_session_and_the_signal_goes_out_after_it():
    link, broker, box = rig()
    box.put(signal(1), 0)
    now = run(link, 0, 3000)                # 3 s without an answer, polled every 10 ms
    assert broker.connects == 1, (broker.connects, link.last_error)
    assert link.connected
    assert broker.waited_s == 0             # no pass waited on the socket
    assert broker.subscribed == [("alarm/hub-1/acks", 0), ("alarm/hub-1/commands", 0)]
    # Held until the acks topic is subscribed: the monitor's ack would be lost.
    assert events(broker) == []
    broker.answer_subscribes()
    run(link, now, 50)
    assert len(events(broker)) == 1
    assert broker.connects == 1 and len(broker.subscribed) == 2


def test_a_suback_that_never_comes_drops_the_link_and_dials_the_next_node():
    link, broker, box = rig(brokers=NODES)
    box.put(signal(1), 0)
    now = run(link, 0, link.suback_ms - 100)
    assert link.connected and broker.connects == 1
    run(link, now, 300)
    assert not link.connected
    assert broker.dialled == [("node-a", 1883)]
    assert link.server == "node-b"
    assert events(broker) == [] and len(box) == 1      # still queued


def test_a_prompt_suback_changes_nothing():
    link, broker, box = rig()
    broker.hold_subacks = False
    box.put(signal(1), 0)
    link.poll(0)
    link.poll(10)
    assert link.connected and len(events(broker)) == 1
