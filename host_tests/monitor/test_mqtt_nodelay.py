"""Every MQTT connection of the service sends its small packets at once
(TCP_NODELAY), on each connection it opens: paho leaves Nagle's algorithm on,
and with it alarms reached the service in clumps every 44 ms (docs/monitoring.md,
"Benchmark"). The broker an install runs sets it on its side too."""
import socket

from tools.broker import Broker
from waiting import until

from monitor import broker_access
from monitor.receiver import Receiver, Settings
from monitor.web.hubview import HubView


def _no_delay(client):
    sock = client.socket()
    return sock is not None and sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_the_receivers_connection_has_no_nagle_delay_also_after_a_reconnect(tmp_path, sqlite_db):
    broker = Broker(str(tmp_path / "mosquitto")).start()
    rx = Receiver(Settings(db=sqlite_db, port=broker.port, prefix="t/nodelay")).start()
    try:
        assert _no_delay(rx.client)
        first = rx.client.socket()
        broker.restart(down_s=0.5)
        assert until(lambda: rx.broker_connected and rx.client.socket() is not first, 20)
        assert _no_delay(rx.client)
    finally:
        rx.stop()
        broker.stop()


def test_the_owners_app_view_has_no_nagle_delay(tmp_path):
    broker = Broker(str(tmp_path / "mosquitto")).start()
    view = HubView(Settings(db=str(tmp_path / "unused.db"), port=broker.port, prefix="t/nodelay"))
    try:
        view.start()
        assert until(lambda: view.clients[0].is_connected(), 10)
        assert _no_delay(view.clients[0])
    finally:
        view.stop()
        broker.stop()


def test_the_installs_broker_sets_no_delay_on_its_side(tmp_path):
    # The secure_broker fixture runs this very file, so mosquitto is known to take it.
    text = broker_access.conf_text(str(tmp_path))
    assert "\nset_tcp_nodelay true\n" in text
    # A global option: before the first listener.
    assert text.index("set_tcp_nodelay") < text.index("\nlistener ")
