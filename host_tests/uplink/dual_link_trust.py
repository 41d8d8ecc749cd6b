# What the link believes: the signed-command watermark (moved only by a
# verified command), the clock (set only from a signed ack that answers a
# signal, refused backwards), signed commands refused while no time is
# trusted, and the reconnect backoff held short while an alarm waits.
from uplink import wire
from uplink import wire_host
from uplink.clock import Clock
from uplink.link import Link
from uplink.outbox import Outbox, MemStore
import fake_umqtt

SECRET = b"s" * 32
HUB = "hub-1"
NOW = 1800000000


class Rtc:
    # A board's RTC: seconds since boot until something sets the clock.
    def __init__(self):
        self.s = 5

    def __call__(self):
        return self.s


def rig(clock=None, **kw):
    broker = fake_umqtt.Broker()
    box = Outbox(MemStore(), capacity=16)
    got = []
    marks = []
    link = Link(box, HUB, SECRET, "broker", mqtt=fake_umqtt.Module(broker), clock=clock,
                on_command=got.append, rand=lambda n: n - 1 if n > 0 else 0, **kw)
    link.on_watermark = marks.append
    return link, broker, box, got, marks


def deliver(link, broker, leaf, payload, now=0):
    broker.incoming.append((("alarm/%s/%s" % (HUB, leaf)).encode(), payload))
    link.poll(now)


def signal(seq, event=130):
    return {"code": "E%03d" % event, "event": event, "qualifier": "E", "seq": seq, "zone": 1,
            "name": "front_door"}


def trusted_clock():
    c = Clock(rtc=Rtc())
    assert c.adopt(NOW, "monitor")
    return c


def test_an_unsigned_command_never_moves_the_watermark():
    link, broker, box, got, marks = rig(trusted_clock())
    link.poll(0)
    assert link.connected
    deliver(link, broker, "commands", b'{"action": "DISARM", "code": "1234", "id": 999999999}')
    assert got == [{"action": "DISARM", "code": "1234"}]      # no id passes on
    assert link.watermark == 0 and marks == []
    deliver(link, broker, "commands", wire_host.command(SECRET, HUB, 5, NOW, "SOS", service="fire"))
    assert got[-1]["action"] == "SOS" and got[-1]["id"] == 5
    assert link.watermark == 5 and marks == [5]
    deliver(link, broker, "commands", wire_host.command(SECRET, HUB, 5, NOW, "SOS", service="fire"))
    assert len(got) == 2 and link.stats["bad_commands"] == 1   # a replay
    forged = wire_host.command(b"x" * 32, HUB, 6, NOW, "SOS", service="fire")
    deliver(link, broker, "commands", forged)
    assert link.watermark == 5 and marks == [5]


def test_signed_commands_wait_for_a_trusted_clock():
    clock = Clock(rtc=Rtc())
    link, broker, box, got, marks = rig(clock)
    link.poll(0)
    deliver(link, broker, "commands", wire_host.command(SECRET, HUB, 1, NOW, "SOS", service="medical"))
    assert got == [] and link.stats["untimed_commands"] == 1 and marks == []
    assert not clock.trusted()
    box.put(signal(1), clock.now())
    link.poll(10)
    assert broker.published[-1][0] == "alarm/hub-1/events"
    deliver(link, broker, "acks", wire_host.ack(SECRET, HUB, [1], NOW), 20)
    assert clock.trusted() and clock.source == "monitor" and abs(clock.now() - NOW) <= 1
    deliver(link, broker, "commands", wire_host.command(SECRET, HUB, 2, NOW, "SOS", service="medical"))
    assert got[-1]["id"] == 2
    # ...and then the window applies.
    deliver(link, broker, "commands", wire_host.command(SECRET, HUB, 3, NOW - 3600, "SOS",
                                                   service="medical"))
    assert len(got) == 1 and link.watermark == 2


def test_the_clock_is_set_only_by_a_signed_ack_that_answers_a_signal():
    clock = Clock(rtc=Rtc())
    link, broker, box, got, marks = rig(clock)
    link.poll(0)
    deliver(link, broker, "acks", wire_host.ack(SECRET, HUB, [7], NOW))      # answers nothing sent
    assert not clock.trusted()
    box.put(signal(7), clock.now())
    link.poll(10)
    deliver(link, broker, "acks", wire_host.ack(b"x" * 32, HUB, [7], NOW))   # forged
    assert not clock.trusted() and link.stats["bad_acks"] == 1
    deliver(link, broker, "acks", wire_host.ack(SECRET, HUB, [7], 12345))    # not a real time
    assert not clock.trusted() and clock.refused == 1
    box.put(signal(8), clock.now())
    link.poll(30)
    deliver(link, broker, "acks", wire_host.ack(SECRET, HUB, [8], NOW), 40)
    assert clock.trusted()
    box.put(signal(9), clock.now())
    link.poll(50)
    deliver(link, broker, "acks", wire_host.ack(SECRET, HUB, [9], NOW - 600), 60)
    assert abs(clock.now() - (NOW - 600)) <= 1     # the monitor's clock went back: followed
    assert not clock.adopt(NOW + 86400, "ntp")      # unauthenticated NTP never overrides it
    assert abs(clock.now() - (NOW - 600)) <= 1 and clock.refused == 2


def test_ntp_sets_only_a_clock_the_monitor_has_not_set():
    clock = Clock(rtc=Rtc())
    assert clock.adopt(NOW, "ntp") and clock.source == "ntp"
    assert clock.adopt(NOW + 30, "ntp")
    assert clock.adopt(NOW + 10, "monitor") and abs(clock.now() - NOW - 10) <= 1
    assert not clock.adopt(NOW + 99, "ntp") and clock.source == "monitor"
    assert not clock.adopt(True, "monitor") and not clock.adopt("1800000000", "monitor")


def test_a_waiting_alarm_keeps_the_reconnect_backoff_short():
    link, broker, box, got, marks = rig(trusted_clock(), backoff_min_ms=500,
                                        backoff_max_ms=60000)
    assert link.alarm_retry_ms == 1000
    broker.down = True
    now = 0
    for _ in range(12):             # a long outage: the backoff grows to its maximum
        link.poll(now)
        now = link.next_try
    assert link.failures == 12
    link.poll(now)
    assert link.next_try - now >= 30000, link.next_try - now     # nothing waiting: long
    box.put(signal(1, 120), 0)      # a panic queued while the broker is down
    now = link.next_try
    link.poll(now)
    assert link.next_try - now <= 1000, link.next_try - now
    assert link.next_try - now >= 500                         # jitter kept, no busy loop
    broker.down = False
    now = link.next_try
    link.poll(now)
    assert link.connected
    link.poll(now + 10)
    assert broker.published[-1][0] == "alarm/hub-1/events"


class FakeNtp:
    # Stands in for micropython-lib's ntptime: host, timeout, time() in the
    # port's epoch seconds (raises OSError when no answer comes).
    def __init__(self, answer):
        self.host = None
        self.timeout = None
        self.answer = answer
        self.asked = 0

    def time(self):
        self.asked += 1
        if self.answer is None:
            raise OSError(110)
        return self.answer


def test_ntp_is_asked_only_while_online_and_at_most_every_retry():
    import sys
    import time
    epoch_2000 = time.gmtime(0)[0] == 2000
    fake = FakeNtp(None)
    sys.modules["ntptime"] = fake
    try:
        clock = Clock(rtc=Rtc(), ntp_host="10.0.0.1")
        clock.poll_ntp(0, False)
        assert fake.asked == 0                      # offline: never
        clock.poll_ntp(0, True)
        assert fake.asked == 1 and clock.ntp_failures == 1 and not clock.trusted()
        assert fake.host == "10.0.0.1" and fake.timeout == 1
        clock.poll_ntp(clock.ntp_retry_ms - 10, True)
        assert fake.asked == 1                      # not again before the retry time
        fake.answer = NOW - (946684800 if epoch_2000 else 0)
        clock.poll_ntp(clock.ntp_retry_ms, True)
        assert fake.asked == 2 and clock.source == "ntp" and abs(clock.now() - NOW) <= 1
        assert clock.adopt(NOW, "monitor")
        clock.poll_ntp(clock.ntp_retry_ms + clock.ntp_every_ms, True)
        assert fake.asked == 2                      # the monitor's time needs no NTP
    finally:
        del sys.modules["ntptime"]
