"""The uplink under the host micropython over real TLS to a real mosquitto that
wants a login and enforces the ACL (the `secure_broker` fixture): the CA in
the config is the only one trusted, the host name must match, a failure is
counted with its reason, and nothing ever goes out in plaintext."""
import os
import socket
import threading

import paho.mqtt.client as mqtt
import pytest

from mqtt_monitor import Monitor
from uplink_consts import HUB, SECRET
from waiting import until

from monitor import broker_access
from uplink_driver import Driver


@pytest.fixture
def tls_driver(secure_broker, umqtt_lib, request):
    drivers = []
    access = secure_broker.access

    def start(**cfg):
        full = {"port": secure_broker.port, "hub": HUB, "secret": SECRET.hex(), "prefix": "alarm",
                "ca": access.ca_pem(), "user": HUB, "password": access.password(HUB)}
        full.update(cfg)
        d = Driver(umqtt_lib, full)
        drivers.append(d)
        return d

    yield start
    for d in drivers:
        d.kill()


@pytest.fixture
def tls_monitor(secure_broker):
    made = []

    def make(**kw):
        m = Monitor(secure_broker.port_for("monitor"), "alarm", HUB, SECRET,
                    auth=lambda c: secure_broker.client_auth(c, "monitor"), **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


def test_signals_and_acks_over_tls_with_the_ca_from_the_config(tls_driver, tls_monitor):
    m = tls_monitor()
    d = tls_driver(n=20, capacity=20, until_empty=True, run_ms=20000)
    d.ev("up")
    done = d.ev("done", timeout=30)
    assert done["outbox"] == 0, done                    # every one acked, over TLS
    assert not m.bad and sorted(set(m.seqs())) == list(range(1, 21))
    assert done["stats"]["connects"] >= 1 and "tls_failures" not in done["stats"]
    print("\nTLS connect, longest loop gap %d ms" % done["max_gap_ms"])


def test_a_broker_signed_by_another_ca_is_refused_and_the_reason_counted(
        tls_driver, tmp_path, secure_broker):
    broker_access.make_ca(str(tmp_path))                # a CA the broker never saw
    with open(os.path.join(str(tmp_path), "ca.crt")) as f:
        stranger = f.read()
    d = tls_driver(ca=stranger, run_ms=1500)
    done = d.ev("done", timeout=15)
    st = done["stats"]
    assert st["connects"] == 0 and st["published"] == 0
    assert st["tls_failures"] >= 1 and st["tls_failures"] == st["failures"]
    assert st["tls_error"] == "untrusted"


def test_a_certificate_for_another_name_is_refused(tls_driver):
    # The config says broker.example; DNS (or an attacker) sent the hub to
    # 127.0.0.1, whose certificate is good but names localhost and 127.0.0.1.
    d = tls_driver(name="broker.example", run_ms=1500)
    st = d.ev("done", timeout=15)["stats"]
    assert st["connects"] == 0 and st["tls_error"] == "name", st


class Recorder:
    """A plaintext TCP listener that keeps every byte a client sends it; it
    never answers (hold) or hangs up after the first bytes."""

    def __init__(self, hold=True):
        self.hold = hold
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.data = []
        self.lock = threading.Lock()
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        buf = bytearray()
        with self.lock:
            self.data.append(buf)
        while True:
            try:
                chunk = conn.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                buf += chunk
            if not self.hold:
                conn.close()
                return

    def received(self):
        with self.lock:
            return [bytes(b) for b in self.data]

    def close(self):
        self.srv.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("hold", [True, False], ids=["silent", "hangs_up"])
def test_never_a_byte_in_plaintext(tls_driver, secure_broker, hold):
    rec = Recorder(hold=hold)
    try:
        d = tls_driver(port=rec.port, n=3, run_ms=5000, handshake_ms=1000)
        done = d.ev("done", timeout=20)
        got = rec.received()
    finally:
        rec.close()
    st = done["stats"]
    assert st["connects"] == 0 and st["tls_failures"] >= 1
    assert st["tls_error"] == ("timeout" if hold else "handshake"), st
    assert got and all(b for b in got)
    password = secure_broker.access.password(HUB).encode()
    for data in got:
        # Each connection starts with a TLS handshake record (0x16, version 3.x)
        # and carries nothing of MQTT: no CONNECT, no client id, no login.
        assert data[0] == 0x16 and data[1] == 3, data[:8]
        for secret in (b"MQTT", HUB.encode(), password, b"alarm/"):
            assert secret not in data
    # A silent peer costs the loop at most the handshake bound, not forever.
    assert done["max_gap_ms"] < 1000 + 1000, done


def test_no_secret_in_the_hubs_own_output(tls_driver, tls_monitor, secure_broker):
    m = tls_monitor()
    d = tls_driver(n=2, until_empty=True, run_ms=10000)
    d.ev("done", timeout=20)
    assert until(lambda: len(m.seqs()) >= 2)
    out = "\n".join(str(line) for line in d.seen) + d.stderr()
    for secret in (secure_broker.access.password(HUB), SECRET.hex()):
        assert secret not in out


def test_a_hubs_login_cannot_act_as_another_hub(tls_driver, secure_broker):
    # The real link, logged in as hub-test but speaking for hub-b (its id in the
    # topics): every publish is dropped by the ACL, its subscriptions get nothing.
    other = "hub-b"
    m = Monitor(secure_broker.port_for("monitor"), "alarm", other, SECRET,
                auth=lambda c: secure_broker.client_auth(c, "monitor"),
                topics=("events", "availability", "state"))
    try:
        d = tls_driver(hub=other, n=3, run_ms=3000, resend_ms=500)
        d.ev("up")
        done = d.ev("done", timeout=20)
        assert done["stats"]["published"] >= 3            # PUBACKed: MQTT 3.1.1 drops silently
        m.ack([1, 2, 3])                                    # the monitor may; hub-test must not see it
        # Sentinel: hub-b itself publishes; once it is in, the forgeries would be too.
        real = secure_broker.client_auth(
            mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="real-" + other), other)
        real.connect("127.0.0.1", secure_broker.port)
        real.loop_start()
        try:
            real.publish("alarm/%s/state" % other, b"sentinel", qos=1).wait_for_publish(5)
            got = []
            while not got or got[-1][1] != b"sentinel":
                got.append(m.other.get(timeout=10))
        finally:
            real.disconnect()
            real.loop_stop()
        assert not m.events and not m.bad
        assert got == [("state", b"sentinel", False)], got
        assert done["outbox"] == 3                         # no ack ever reached it
    finally:
        m.close()
    # The broker names a client by its id, which on the hubs' listener is its
    # login (hub-test), whatever id the link sent (hub-b).
    assert "Denied PUBLISH from %s" % HUB in secure_broker.log_text()
