"""A test broker picks its ports before mosquitto binds them; under xdist another
worker's server (a broker, the console, a DC-09 receiver) can take one in
between. The Broker then picks again instead of failing the test that asked
for it, and a restart stays on the port its clients know."""
import socket

import paho.mqtt.client as mqtt
import pytest

from tools import broker as broker_mod
from tools.broker import Broker
from tools.nats_cluster import mqtt_ready


@pytest.fixture
def taken():
    """A port another server listens on, and free_port handing it out first."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


def _pick_taken(monkeypatch, port, at=0):
    """free_port's pick number `at` (0: the first) is `port`."""
    real = broker_mod.free_port
    calls = []

    def pick(avoid=None):
        calls.append(avoid)
        return port if len(calls) == at + 1 else real(avoid)
    monkeypatch.setattr(broker_mod, "free_port", pick)


def _logs_in(b, user, port):
    c = b.client_auth(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user), user)
    try:
        return c.connect("127.0.0.1", port, keepalive=5) == 0 and _connack(c)
    finally:
        c.disconnect()


def _connack(c):
    got = []
    c.on_connect = lambda cl, ud, flags, rc, props=None: got.append(rc)
    for _ in range(50):
        c.loop(timeout=0.1)
        if got:
            return not got[0].is_failure
    return False


def test_a_plain_broker_whose_port_was_taken_picks_another(tmp_path, monkeypatch, taken):
    _pick_taken(monkeypatch, taken)
    b = Broker(str(tmp_path / "mosquitto")).start()
    try:
        assert b.port != taken
        assert b.proc.poll() is None, b.log_text()
        assert mqtt_ready(b.port), b.log_text()
        b.restart()
        assert mqtt_ready(b.port), "a restart moved the port its clients know"
    finally:
        b.stop()


@pytest.mark.parametrize("at", [0, 1], ids=["hubs-port", "monitor-port"])
def test_a_secure_broker_whose_port_was_taken_picks_another_and_says_so(tmp_path, monkeypatch,
                                                                       taken, at):
    _pick_taken(monkeypatch, taken, at)
    b = Broker(str(tmp_path / "mosquitto"), hubs=["hub-a"]).start()
    try:
        assert taken not in (b.port, b.port_for("monitor")) and b.access.port == b.port
        assert b.proc.poll() is None, b.log_text()
        assert _logs_in(b, "hub-a", b.port), b.log_text()
        assert _logs_in(b, "monitor", b.port_for("monitor")), b.log_text()
    finally:
        b.stop()


def test_a_port_given_by_the_caller_is_not_swapped_behind_its_back(tmp_path, taken):
    b = Broker(str(tmp_path / "mosquitto"), port=taken)
    with pytest.raises(RuntimeError, match="Address already in use"):
        b.start(timeout=5)
    b.stop()
    assert b.port == taken


def test_a_nats_cluster_whose_port_was_taken_picks_others(tmp_path, monkeypatch, taken):
    from tools import nats_cluster
    real = nats_cluster._free_ports
    picks = []

    def pick(n):
        ports = real(n)
        if not picks:
            ports[3 + 0] = taken        # the second node's MQTT port
        picks.append(ports)
        return ports
    monkeypatch.setattr(nats_cluster, "_free_ports", pick)
    c = nats_cluster.Cluster(str(tmp_path / "nats")).start(timeout=60)
    try:
        assert taken not in c.mqtt_ports
        assert all(p.poll() is None for p in c.procs)
        for i, port in enumerate(c.mqtt_ports):
            assert "Listening for MQTT clients on mqtt://127.0.0.1:%d" % port in c.log_text(i)
        moved = c.mqtt_ports
        c.kill(1)
        c.start_node(1)
        c.wait_ready(60, nodes=[1])
        assert c.mqtt_ports == moved, "a restarted node moved the port its clients know"
    finally:
        c.stop()
