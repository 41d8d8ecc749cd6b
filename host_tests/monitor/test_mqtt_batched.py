"""The service's paho client reads and writes in batches (monitor/mqtt_batched.py):
every MQTT byte must still arrive whole and in order, over plain TCP and TLS,
across the read buffer's chunk edges, after reconnects, and a clean
disconnect must still reach the broker (or it publishes the client's will).
The other end of every test is stock paho or mosquitto itself."""
import os
import queue
import socket
import threading

import paho.mqtt.client as mqtt
import pytest

from tools.broker import Broker
from waiting import until

from monitor import mqtt_batched, mqtt_nodelay
from monitor.broker_access import MAX_PACKET
from monitor.mqtt_batched import BufferedSocket


@pytest.fixture
def broker(tmp_path):
    b = Broker(str(tmp_path / "mosquitto")).start()
    yield b
    b.stop()


def _stock(client_id):
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)


def _batched(client_id, **kw):
    return mqtt_batched.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, **kw)


class Subscriber:
    def __init__(self, client, host, port, topic):
        self.c = client
        self.got = queue.Queue()
        self.ready = threading.Event()
        self.c.on_connect = lambda c, *a: c.subscribe(topic, 1)
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = lambda c, u, m: self.got.put((m.topic, m.payload))
        self.c.connect(host, port, keepalive=10)
        self.c.loop_start()
        assert self.ready.wait(10)

    def take(self, n, timeout=30):
        return [self.got.get(timeout=timeout) for _ in range(n)]

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


# Lengths whose MQTT remaining length takes 1, 2 and 3 bytes, and payloads
# longer than one read of the buffer, so packets straddle its chunks.
SIZES = (0, 1, 100, 127, 128, 5000, 16383, 16384, 70000, 200000)


def _payloads(n):
    return [os.urandom(SIZES[i % len(SIZES)]) for i in range(n)]


def test_every_packet_arrives_whole_and_in_order_across_the_buffers_chunks(broker):
    sub = Subscriber(_batched("sub"), "127.0.0.1", broker.port, "t/+/events")
    pub = _stock("pub")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        payloads = _payloads(600)
        for i, p in enumerate(payloads):
            pub.publish("t/h%d/events" % (i % 7), p, qos=1)
        got = sub.take(len(payloads))
        # mosquitto keeps one publisher's messages in order.
        assert [p for _, p in got] == payloads
        assert [t for t, _ in got] == ["t/h%d/events" % (i % 7) for i in range(len(payloads))]
        assert isinstance(sub.c.socket(), BufferedSocket)
    finally:
        pub.disconnect()
        pub.loop_stop()
        sub.close()


def test_its_qos1_publishes_are_all_acknowledged_and_received(broker):
    sub = Subscriber(_stock("sub"), "127.0.0.1", broker.port, "t/+/acks")
    pub = _batched("pub")
    acked = set()
    pub.on_publish = lambda c, u, mid, *a: acked.add(mid)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        payloads = _payloads(400) + [b"x%d" % i for i in range(3000)]
        mids = [pub.publish("t/h/acks", p, qos=1).mid for p in payloads]
        assert [p for _, p in sub.take(len(payloads))] == payloads
        assert until(lambda: acked >= set(mids), 10)
    finally:
        pub.disconnect()
        pub.loop_stop()
        sub.close()


def test_a_clean_disconnect_reaches_the_broker_so_no_will_is_published(broker):
    watch = Subscriber(_stock("watch"), "127.0.0.1", broker.port, "t/+/availability")
    try:
        for n in range(5):
            c = _batched("hub-%d" % n)
            c.will_set("t/hub-%d/availability" % n, b"offline", qos=1)
            connected = threading.Event()
            c.on_connect = lambda *a: connected.set()
            c.connect("127.0.0.1", broker.port, keepalive=10)
            c.loop_start()
            assert connected.wait(10)
            # A publish queued just before DISCONNECT still goes out first.
            c.publish("t/hub-%d/availability" % n, b"online", qos=0)
            c.disconnect()
            c.loop_stop()
        # The last client's will would come after its "online".
        got = watch.take(5)
        assert [p for _, p in got] == [b"online"] * 5
        # mosquitto's words for a DISCONNECT received, not a socket closed.
        assert until(lambda: "Client hub-4 disconnected" in broker.log_text(), 5)
        log = broker.log_text()
        for n in range(5):
            assert "Client hub-%d disconnected" % n in log
            assert "hub-%d closed its connection" % n not in log
        with pytest.raises(queue.Empty):
            watch.got.get(timeout=1.0)
    finally:
        watch.close()


def test_a_lost_connection_is_seen_and_the_next_one_is_buffered_too(broker):
    sub = Subscriber(mqtt_nodelay.no_delay(_batched("sub-r", clean_session=False)),
                     "127.0.0.1", broker.port, "t/+/events")
    pub = _stock("pub-r")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        first = sub.c.socket()
        broker.restart(down_s=0.5)
        assert until(lambda: sub.c.is_connected() and sub.c.socket() is not first, 20)
        new = sub.c.socket()
        assert isinstance(new, BufferedSocket)
        # on_socket_open saw the real socket's options through the buffer.
        assert new.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert until(lambda: pub.is_connected(), 20)
        pub.publish("t/h/events", b"after", qos=1)
        assert sub.take(1) == [("t/h/events", b"after")]
    finally:
        pub.disconnect()
        pub.loop_stop()
        sub.close()


def test_over_tls_every_packet_arrives_whole(secure_broker):
    sub = Subscriber(secure_broker.client_auth(_batched("monitor-batched"), "monitor"),
                     "127.0.0.1", secure_broker.port_for("monitor"), "alarm/+/events")
    hub = secure_broker.client_auth(_stock("hub-test"), "hub-test")
    hub.connect("127.0.0.1", secure_broker.port_for("hub-test"))
    hub.loop_start()
    try:
        assert isinstance(sub.c.socket(), BufferedSocket)
        payloads = [os.urandom(min(s, MAX_PACKET - 100)) for s in SIZES] * 40
        for p in payloads:
            hub.publish("alarm/hub-test/events", p, qos=1)
        assert [p for _, p in sub.take(len(payloads))] == payloads
    finally:
        hub.disconnect()
        hub.loop_stop()
        sub.close()


# ---- the buffer alone, on a socket pair ----

@pytest.fixture
def pair():
    """(a BufferedSocket on a non-blocking end, as paho's socket is, the other end)."""
    a, b = socket.socketpair()
    a.setblocking(False)
    yield BufferedSocket(a), b
    a.close()
    b.close()


def test_reads_come_from_one_chunk_and_say_what_is_pending(pair, monkeypatch):
    s, b = pair
    monkeypatch.setattr(mqtt_batched, "READ_CHUNK", 8)
    b.sendall(b"0123456789abc")
    assert s.recv(1) == b"0" and s.pending() == 7
    assert s.recv(20) == b"1234567"         # short at the chunk's end, as a socket may be
    assert s.pending() == 0
    assert s.recv(3) == b"89a"
    b.close()
    assert s.recv(5) == b"bc"
    assert s.recv(5) == b""                  # the peer closed


def test_an_empty_buffer_raises_as_the_socket_does(pair):
    s, _ = pair
    with pytest.raises(BlockingIOError):
        s.recv(1)


def test_writes_wait_for_flush_and_a_full_kernel_buffer_keeps_the_rest(pair):
    s, b = pair
    data = os.urandom(4 << 20)
    assert s.send(data[:10]) == 10 and s.send(data[10:]) == len(data) - 10
    b.setblocking(False)
    with pytest.raises(BlockingIOError):
        b.recv(1)                           # nothing sent before flush
    s.flush()
    assert 0 < len(s.out) < len(data)       # the kernel took part of it
    got = bytearray()
    b.setblocking(True)
    while len(got) < len(data):
        got += b.recv(1 << 20)
        s.flush()
    assert bytes(got) == data and not s.out


def test_close_sends_what_is_buffered_first(pair):
    s, b = pair
    s.send(b"\xe0\x00")                     # DISCONNECT
    s.close()
    assert b.recv(10) == b"\xe0\x00"


def test_a_dead_connection_drops_the_buffer_instead_of_failing_the_loop(pair):
    s, b = pair
    b.close()
    s.send(b"x" * 100)
    s.flush()
    s.send(b"y" * 100)
    s.flush()                               # EPIPE the second time at the latest
    assert not s.out
