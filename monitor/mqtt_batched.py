"""A paho client whose network thread handles every packet one socket read
brings, and writes every packet queued since its last write with one send.

Stock paho (2.2) goes round its whole loop once per packet: a select(),
three recv() calls (the packet's first byte, its length, the rest), then a
second select() woken through its socket pair to send the PUBACK. Measured
on a subscriber taking QoS 1 events as fast as mosquitto sends them, that
cost 0.10-0.11 CPU s per 1,000 events, about half of a worker's CPU; through
this client it is 0.05-0.06 (docs/monitoring.md, "Benchmark").

Only the socket paho reads and writes is changed: the MQTT state machine,
QoS 1 retries, keepalive, reconnects and TLS are paho's own. paho already
polls a socket with bytes `pending()` (its TLS path) instead of waiting in
select(); this client's loop_read() takes all of them at once, and
loop_write() sends what paho wrote into the buffer.

Nothing a packet means is decided here, so nothing is lost with the buffer:
paho counts a packet as written once the buffer holds it, as it did once
the kernel's send buffer held it, and after a lost connection it sends its
unacknowledged QoS 1 messages again either way."""
import ssl

import paho.mqtt.client as mqtt

# One read takes what the kernel holds, up to this: a few hundred events.
READ_CHUNK = 65536

# Not ready now; select() says when it is.
_TRY_LATER = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class BufferedSocket:
    """paho's socket (plain TCP, TLS or websocket) read a chunk at a time and
    written by flush(). Everything else goes to the socket itself."""

    def __init__(self, sock):
        self.sock = sock
        self._in = b""
        self._at = 0
        self.out = bytearray()

    def recv(self, n):
        data, at = self._in, self._at
        if at >= len(data):
            data = self.sock.recv(READ_CHUNK)       # raises as the socket would
            if not data:
                return data                         # closed by the peer
            self._in, at = data, 0
        chunk = data[at:at + n]
        self._at = at + len(chunk)
        return chunk

    def pending(self):
        inner = getattr(self.sock, "pending", None)
        return len(self._in) - self._at + (inner() if inner else 0)

    def send(self, data):
        self.out += data
        return len(data)

    def flush(self):
        """Send what the kernel takes now; the rest waits for the next write."""
        if not self.out:
            return
        try:
            sent = self.sock.send(self.out)
        except _TRY_LATER:
            return
        except OSError:
            # The connection is gone: its next read says so to paho, which
            # sends its unacknowledged messages again on the next connection.
            self.out.clear()
            return
        del self.out[:sent]

    def close(self):
        # paho closes the socket straight after writing DISCONNECT: without
        # this the broker would see a lost connection and publish the will.
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(1.0)
            while self.out:
                del self.out[:self.sock.send(self.out)]
        except OSError:
            pass
        self.sock.close()

    def fileno(self):
        return self.sock.fileno()

    def __getattr__(self, name):
        return getattr(self.sock, name)


class Client(mqtt.Client):
    """paho's Client with the buffered socket; use it as paho's (loop_start,
    publish, subscribe, callbacks). Written against paho-mqtt 2.2.0, pinned
    in requirements.txt: it replaces the socket through paho's
    _create_socket, which host_tests/monitor/test_mqtt_batched.py checks is
    still the socket every connection is made with."""

    def _create_socket(self):
        return BufferedSocket(super()._create_socket())

    def loop_read(self, max_packets=1):
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTT_ERR_SUCCESS and self._buffered() and self._sock.pending():
            rc = super().loop_read(max_packets)
        return rc

    def loop_write(self):
        rc = super().loop_write()
        if self._buffered():
            self._sock.flush()
        return rc

    def want_write(self):
        return super().want_write() or bool(self._buffered() and self._sock.out)

    def _buffered(self):
        return isinstance(self._sock, BufferedSocket)
