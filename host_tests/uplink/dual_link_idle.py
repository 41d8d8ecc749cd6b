# What a connected link does on a loop pass when nothing changed: the hub's
# ~100 retained topics (zones, discovery) are looked through only when one of
# them is new or changed, or after a reconnect; not 100 times a second.
from uplink.link import Link
from uplink.outbox import Outbox, MemStore
import fake_umqtt


class Retained:
    # The link's retained map, counting how often it is looked through.
    def __init__(self):
        self.d = {}
        self.walks = 0

    def get(self, k, default=None):
        return self.d.get(k, default)

    def __getitem__(self, k):
        return self.d[k]

    def __setitem__(self, k, v):
        self.d[k] = v

    def __len__(self):
        return len(self.d)

    def __iter__(self):
        self.walks += 1
        return iter(self.d)


def rig():
    broker = fake_umqtt.Broker()
    link = Link(Outbox(MemStore(), capacity=16), "hub-1", b"s" * 32, "broker",
                mqtt=fake_umqtt.Module(broker), per_poll=4)
    link.retained = Retained()
    for n in range(100):
        link.publish_retained("alarm/hub-1/zone/%d" % n, b"closed")
    return link, broker


def retained_sent(broker):
    return [p for p in broker.published if p[2] and "/zone/" in p[0]]


def test_an_idle_pass_does_not_look_through_the_retained_topics():
    link, broker = rig()
    now = 0
    for _ in range(60):                 # connect, then 3 topics a pass
        now += 10
        link.poll(now)
    assert len(retained_sent(broker)) == 100
    walks = link.retained.walks
    for _ in range(200):
        now += 10
        link.poll(now)
    assert link.retained.walks == walks
    assert len(retained_sent(broker)) == 100


def test_a_changed_topic_is_sent_on_the_next_pass_and_after_a_reconnect_all_again():
    link, broker = rig()
    now = 0
    for _ in range(60):
        now += 10
        link.poll(now)
    link.publish_retained("alarm/hub-1/zone/7", b"open")
    link.publish_retained("alarm/hub-1/zone/8", b"closed")        # unchanged: not sent again
    now += 10
    link.poll(now)
    assert retained_sent(broker)[100:] == [("alarm/hub-1/zone/7", b"open", True, 1)]
    broker.down = True
    now += 10
    link.poll(now)
    assert not link.connected
    broker.down = False
    for _ in range(200):
        now += 10
        link.poll(now)
    again = retained_sent(broker)[101:]
    assert len(again) == 100 and ("alarm/hub-1/zone/7", b"open", True, 1) in again
