# Host shim of MicroPython's `network`: the host is always on the network.
STA_IF = 0
AP_IF = 1
STAT_GOT_IP = 1010


class WLAN:
    def __init__(self, interface_id=STA_IF):
        self._active = False
        self._ssid = None

    def active(self, is_active=None):
        if is_active is None:
            return self._active
        self._active = bool(is_active)

    def connect(self, ssid=None, key=None, **kw):
        # Like the ESP32 port: ssid and key must be text (or bytes).
        for v in (ssid, key):
            if v is not None and not isinstance(v, (str, bytes)):
                raise TypeError("can't convert %s to str" % type(v).__name__)
        self._ssid = ssid

    def disconnect(self):
        self._ssid = None

    def isconnected(self):
        # Connected once asked to join, as a board is a moment after connect().
        return self._active and self._ssid is not None

    def status(self, param=None):
        if param == "rssi":
            return -50
        return STAT_GOT_IP if self._active else 0

    def ifconfig(self, *args):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")

    def config(self, *args, **kw):
        if args and args[0] == "mac":
            return b"\x24\x0a\xc4\x00\x00\x01"
        return None
