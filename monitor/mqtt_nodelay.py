"""Small MQTT packets go out at once: paho (2.2) leaves Nagle's algorithm on,
so a publish written while the previous one is still unacknowledged by TCP
waits for that acknowledgement, which the peer delays by up to 40 ms. An
alarm's signal, its ack and a command to a hub are each one small packet:
measured with the broker and both ends on one machine, alarms reached the
service in clumps every 44 ms (p50 22 ms from publish to arrival) before
this, as the hub's own link (firmware/uplink/link.py) already avoids."""
import socket


def no_delay(client):
    """Set TCP_NODELAY on each socket the paho client opens (every reconnect
    opens a new one)."""
    client.on_socket_open = _on_socket_open
    return client


def _on_socket_open(client, userdata, sock):
    # A websocket transport wraps the socket and has no setsockopt.
    setsockopt = getattr(sock, "setsockopt", None)
    if setsockopt is not None:
        try:
            setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass            # not TCP (a Unix socket): nothing to delay
