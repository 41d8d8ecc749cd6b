# The bound on incoming MQTT packets, read the way umqtt.simple's wait_msg()
# reads them, under both runtimes.
from uplink.inbound import Inbound


class Stream:
    # Bytes arrive in `data`; only `arrived` of them can be read without blocking.
    def __init__(self, data, arrived=None):
        self.data = data
        self.arrived = len(data) if arrived is None else arrived
        self.pos = 0
        self.blocking = True
        self.written = b""

    def read(self, n):
        if self.blocking:
            if self.pos + n > len(self.data):
                raise OSError(110)          # timed out waiting for the rest
            end = self.pos + n
        else:
            end = min(self.pos + n, self.arrived)
            if end <= self.pos:
                return None
        d = self.data[self.pos:end]
        self.pos = end
        if self.pos > self.arrived:
            self.arrived = self.pos
        return d

    def write(self, buf, n=None):
        self.written += bytes(buf[:n] if n is not None else buf)

    def setblocking(self, flag):
        self.blocking = flag

    def settimeout(self, t):
        self.blocking = t != 0


def publish(topic, payload, qos=0, retain=False, pid=7):
    body = bytes((len(topic) >> 8, len(topic) & 0xFF)) + topic
    if qos:
        body += bytes((pid >> 8, pid & 0xFF))
    body += payload
    n = len(body)
    size = b""
    while True:
        b = n & 0x7F
        n >>= 7
        size += bytes((b | 0x80 if n else b,))
        if not n:
            break
    return bytes((0x30 | qos << 1 | (1 if retain else 0),)) + size + body


def wait_msg(sock):
    # The reads umqtt.simple makes for one message: (op, topic, payload) or None.
    sock.setblocking(False)
    res = sock.read(1)
    sock.setblocking(True)
    if res is None:
        return None
    op = res[0]
    if op & 0xF0 != 0x30:
        return (op, sock.read(1), None)
    n = 0
    sh = 0
    while True:
        b = sock.read(1)[0]
        n |= (b & 0x7F) << sh
        if not b & 0x80:
            break
        sh += 7
    tl = sock.read(2)
    tl = tl[0] << 8 | tl[1]
    topic = sock.read(tl)
    n -= tl + 2
    if op & 6:
        sock.read(2)
        n -= 2
    return (op, topic, sock.read(n))


def test_small_messages_pass_unchanged_with_their_header_byte():
    data = publish(b"a/acks", b'{"seqs":[1]}', qos=1, retain=True) + b"\xd0\x00" + \
        publish(b"a/c", b"")
    stats = {}
    s = Inbound(Stream(data), 64, stats)
    assert wait_msg(s) == (0x33, b"a/acks", b'{"seqs":[1]}') and s.op == 0x33
    assert wait_msg(s) == (0xD0, b"\x00", None) and s.op == 0xD0
    assert wait_msg(s) == (0x30, b"a/c", b"")
    assert wait_msg(s) is None and stats == {}


def test_an_oversize_message_is_dropped_acked_and_counted():
    big = publish(b"a/commands", b"x" * 5000, qos=1, pid=0x1234)
    stream = Stream(big + publish(b"a/acks", b"ok"))
    stats = {}
    s = Inbound(stream, 256, stats)
    s.budget = 1000
    seen = []
    for _ in range(10):
        got = wait_msg(s)
        if got is not None:
            seen.append(got)
    assert seen == [(0x30, b"a/acks", b"ok")]
    assert stats == {"oversize": 1}
    assert stream.written == b"\x40\x02\x12\x34"          # PUBACK: no in-flight slot held


def test_a_drain_takes_a_bounded_slice_per_poll_and_only_what_has_arrived():
    big = publish(b"a/commands", b"y" * 40000, retain=True)
    stream = Stream(big + publish(b"a/acks", b"ok"), arrived=3000)
    s = Inbound(stream, 256, {})
    s.budget = 16384
    assert wait_msg(s) is None and s.draining()
    assert stream.pos == 3000                            # not a byte it would wait for
    stream.arrived = len(stream.data)
    assert wait_msg(s) is None and s.draining()
    assert stream.pos == 3000 + 16384
    polls = 0
    while s.draining():
        assert wait_msg(s) in (None, (0x30, b"a/acks", b"ok"))
        polls += 1
    assert polls <= 2


def test_a_wait_for_an_answer_discards_the_whole_message_first():
    # umqtt waits for a PUBACK after publishing: the oversize message in front
    # of it is drained at once, then the PUBACK is read.
    stream = Stream(publish(b"a/commands", b"z" * 70000, qos=1) + b"\x40\x02\x00\x05")
    s = Inbound(stream, 256, {})
    s.setblocking(True)
    assert s.read(1) == b"\x40" and s.read(1) == b"\x02" and s.read(2) == b"\x00\x05"
    assert not s.draining()


def test_a_connection_cut_mid_message_is_an_error_not_a_hang():
    stream = Stream(publish(b"a/commands", b"z" * 9000)[:4000])
    s = Inbound(stream, 256, {})
    s.setblocking(True)
    try:
        s.read(1)
    except OSError:
        return
    assert False, "a short read must raise"


def test_a_deferred_subscribe_wait_returns_at_once():
    # umqtt's subscribe() reads for its SUBACK right after the SUBSCRIBE: with
    # `defer` that read raises EAGAIN without touching the socket.
    stream = Stream(b"", arrived=0)
    s = Inbound(stream, 256, {})
    s.setblocking(True)
    s.defer = True
    try:
        s.read(1)
        raise AssertionError("the read should not have waited for the SUBACK")
    except OSError as e:
        assert e.args[0] == 11        # EAGAIN
    assert not s.defer and stream.pos == 0


def test_late_subacks_are_read_here_not_by_umqtt():
    # Two SUBACKs in front of a PUBACK umqtt waits for, then a message
    # check_msg reads: umqtt sees neither SUBACK.
    data = b"\x90\x03\x00\x01\x01" + b"\x40\x02\x00\x03" + b"\x90\x03\x00\x02\x01" + \
        publish(b"a/acks", b"ok")
    s = Inbound(Stream(data), 256, {})
    s.subacks = 2
    s.setblocking(True)
    assert s.read(1) == b"\x40" and s.read(1) == b"\x02" and s.read(2) == b"\x00\x03"
    assert s.subacks == 1
    assert wait_msg(s) == (0x30, b"a/acks", b"ok") and s.subacks == 0


def test_a_refused_subscription_is_an_error():
    # A NATS node electing a stream's leader answers 0x80: the link drops and
    # dials the next node, as umqtt's own MQTTException made it.
    stats = {}
    s = Inbound(Stream(b"\x90\x03\x00\x01\x80"), 256, stats)
    s.subacks = 1
    try:
        wait_msg(s)
        raise AssertionError("a refused SUBSCRIBE passed")
    except OSError as e:
        assert e.args[0] == 111       # ECONNREFUSED
    assert stats == {"refused_subscriptions": 1}
