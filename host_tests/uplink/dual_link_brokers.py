# Several broker addresses (the nodes of a broker cluster): a hub whose node
# fails dials the next one, and what the monitor had not acked goes out again
# there. The TLS name checked follows the address dialled.
from uplink.link import Link
from uplink.outbox import Outbox, MemStore
import fake_umqtt

HUB = "hub-1"
NODES = [("node-a", 8883), ("node-b", 8884), ("node-c", 8885)]


class Tls:
    # What the link may touch of uplink.tls.Tls: the name it checks.
    def __init__(self, hostname):
        self.hostname = hostname

    def wrap(self, raw):
        return raw


def rig(brokers=NODES, tls=None):
    broker = fake_umqtt.Broker()
    box = Outbox(MemStore(), capacity=16)
    link = Link(box, HUB, b"s" * 32, brokers[0][0], port=brokers[0][1], brokers=brokers,
                mqtt=fake_umqtt.Module(broker), rand=lambda n: 0, tls=tls)
    return link, broker, box


def signal(seq):
    return {"code": "E130", "event": 130, "qualifier": "E", "seq": seq, "zone": 1,
            "name": "front_door"}


def events(broker):
    return [p for p in broker.published if p[0] == "alarm/%s/events" % HUB]


def test_a_refused_node_moves_the_hub_to_the_next():
    link, broker, box = rig()
    broker.refuse.add("node-a")
    link.poll(0)
    assert not link.connected and broker.dialled == [("node-a", 8883)]
    link.poll(link.next_try)
    assert link.connected and broker.dialled[-1] == ("node-b", 8884)


def test_the_addresses_go_round():
    link, broker, box = rig()
    broker.down = True
    now = 0
    for _ in range(4):
        link.poll(now)
        now = link.next_try
    assert [d[0] for d in broker.dialled] == ["node-a", "node-b", "node-c", "node-a"]



def test_the_backoff_grows_by_rounds_of_the_list_not_by_node():
    # A dead node is no reason to wait before trying a live one: the next node
    # is dialled after the shortest wait; only a whole round of failures
    # doubles the backoff. (Per node, a cluster with one node dead and the
    # others electing leaders for seconds had the hub waiting a minute.)
    link, broker, box = rig()
    broker.down = True
    now, waits = 0, []
    for _ in range(9):
        link.poll(now)
        waits.append(link.next_try - now)
        now = link.next_try
    # rand = 0: each wait is half of its delay (the jitter's floor).
    half = link.backoff_min_ms // 2
    assert waits == [half, half, half, half, half, 2 * half, half, half, 4 * half], waits

def test_a_dead_node_s_unacked_signal_goes_out_on_the_next():
    link, broker, box = rig()
    box.put(signal(1), 0)
    link.poll(0)
    link.poll(1)
    assert len(events(broker)) == 1 and broker.dialled[-1][0] == "node-a"
    broker.refuse.add("node-a")
    broker.down = True              # node-a killed: the connection breaks
    link.poll(2)
    assert not link.connected
    broker.down = False
    link.poll(link.next_try)
    assert link.connected and broker.dialled[-1][0] == "node-b"
    link.poll(link.next_try or 10000)
    assert len(events(broker)) == 2     # the same signal, not acked, sent again


def test_tls_checks_the_name_of_the_node_dialled():
    tls = Tls("node-a")
    link, broker, box = rig(tls=tls)
    broker.refuse.add("node-a")
    link.poll(0)
    link.poll(link.next_try)
    assert link.connected and tls.hostname == "node-b"


def test_one_address_stays_as_it_was():
    link, broker, box = rig(brokers=[("solo", 1883)])
    broker.down = True
    link.poll(0)
    link.poll(link.next_try)
    assert broker.dialled == [("solo", 1883), ("solo", 1883)]
