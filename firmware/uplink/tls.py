# TLS for the hub's MQTT link: the broker's certificate must chain to the one
# CA the config carries and name the host the hub dialled; anything else fails
# the connect, with a reason the link counts. There is no plaintext fallback.
#
# umqtt.simple's own TLS parameters differ by version (1.3.4 on PyPI, used on
# the host: ssl=True and ssl_params for ussl.wrap_socket; the ones frozen in
# current firmware: ssl=an SSLContext, wrapped with server_hostname=server), so
# the link never passes them: every version calls sock.connect(addr) on the
# socket the link's shim made, which connects and then wraps (Tls.wrap), so
# umqtt reads and writes a TLS socket like any other.
#
# The handshake is not done inside wrap_socket: MicroPython retries it there for
# as long as the broker stays silent. It runs inside the first write instead,
# with each wait bounded by the socket's timeout and the whole of it by
# `handshake_ms`, so a broker that accepts TCP and never answers costs the alarm
# loop a bounded pause, like any other failed connect.
import binascii
import errno

try:
    import time
    _ms = time.ticks_ms
    _diff = time.ticks_diff
except AttributeError:          # CPython (config checks only)
    def _ms():
        return int(time.monotonic() * 1000)

    def _diff(a, b):
        return a - b

_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"


class TlsError(Exception):
    # A refused or failed TLS session; `reason` is one word for the status topic.
    def __init__(self, reason, detail=""):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self):
        return "tls %s: %s" % (self.reason, self.detail) if self.detail else "tls " + self.reason


def pem_to_der(pem):
    """The DER bytes of the first certificate in a PEM text; ValueError if none.
    (Some builds of the ssl module take only DER as cadata.)"""
    if isinstance(pem, (bytes, bytearray)):
        pem = bytes(pem).decode()
    start = pem.find(_PEM_BEGIN)
    end = pem.find(_PEM_END)
    if start < 0 or end < start:
        raise ValueError("not a PEM certificate")
    body = pem[start + len(_PEM_BEGIN):end].replace("\r", "").replace("\n", "").replace(" ", "")
    try:
        der = binascii.a2b_base64(body)
    except Exception:
        raise ValueError("bad base64 in the PEM certificate")
    if len(der) < 64 or der[0] != 0x30:
        raise ValueError("not a DER certificate inside the PEM")
    return der


def reason_of(err):
    # mbedtls' verify result text, or its error code, to one word.
    text = str(err)
    if "CN" in text or ("name" in text.lower() and "match" in text):
        return "name"
    if "expired" in text or "future" in text:
        return "expired"
    if "trusted" in text or "signed" in text or "verif" in text.lower():
        return "untrusted"
    if isinstance(err, OSError) and err.args and err.args[0] in (errno.ETIMEDOUT, errno.EAGAIN):
        return "timeout"
    return "handshake"


class _TlsSocket:
    # What umqtt (through the link's _Sock) talks to: reads and writes go to the
    # TLS layer, timeouts to the TCP socket beneath it.
    def __init__(self, raw, tls, handshake_ms):
        self.raw = raw
        self.tls = tls
        self.handshake_ms = handshake_ms
        self.shaken = False

    def settimeout(self, t):
        self.raw.settimeout(t)

    def setsockopt(self, *args):
        return self.raw.setsockopt(*args)

    def read(self, n):
        return self.tls.read(n)

    def write(self, buf, n=None):
        if n is not None and n != len(buf):
            buf = memoryview(buf)[:n]
        total = len(buf)
        done = 0
        start = _ms()
        while done < total:
            try:
                r = self.tls.write(buf if done == 0 else memoryview(buf)[done:])
            except (ValueError, OSError) as e:
                if self.shaken:
                    raise
                raise TlsError(reason_of(e), str(e))
            if r is None:
                # The handshake (or a full send buffer) needs the peer: each
                # wait was bounded by the socket timeout; bound them all.
                if _diff(_ms(), start) > self.handshake_ms:
                    raise TlsError("timeout" if not self.shaken else "stalled",
                                   "no answer in %d ms" % self.handshake_ms)
                continue
            done += r
            self.shaken = True
        return total

    def close(self):
        try:
            self.tls.close()
        finally:
            self.raw.close()


class Tls:
    """Wraps the link's TCP socket: wrap(raw) -> a socket speaking TLS to the broker."""

    # 4 s: the ESP32's handshake arithmetic (an estimated 0.3-1 s) plus a few
    # round trips on a slow Wi-Fi, and still well inside the 8 s watchdog.
    def __init__(self, ca_pem, server_hostname, handshake_ms=4000, ssl=None):
        self.der = pem_to_der(ca_pem)
        self.hostname = server_hostname
        self.handshake_ms = handshake_ms
        if ssl is None:
            import ssl
        self.ssl = ssl
        self.ctx = None

    def _context(self):
        # Built once and kept: the context holds the parsed CA (a few KB of heap).
        if self.ctx is None:
            ssl = self.ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cadata=self.der)
            self.ctx = ctx
        return self.ctx

    def wrap(self, raw):
        try:
            tls = self._context().wrap_socket(raw, server_hostname=self.hostname,
                                              do_handshake_on_connect=False)
        except (ValueError, OSError) as e:
            raise TlsError(reason_of(e), str(e))
        return _TlsSocket(raw, tls, self.handshake_ms)
