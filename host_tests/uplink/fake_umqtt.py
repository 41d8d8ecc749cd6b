# umqtt.simple's API as every version the firmware supports has it (1.3.4 on
# PyPI, 1.7.0 frozen in stock v1.28, 1.8.x), and nothing more: a link that
# calls anything else, or passes an argument one of them lacks, fails here.
# In RAM: what the link publishes is recorded, what the test puts in
# `incoming` is delivered by check_msg(). Set `down` to refuse connects.
# SUBSCRIBE and its SUBACK go over the socket as umqtt's do (written, then
# read back through whatever the link put in between); with `hold_subacks`
# the broker answers only when the test calls answer_subscribes(), as a
# NATS node that makes a JetStream consumer first.
from uplink import link as _link


class _RawSock:
    def __init__(self, broker):
        self.broker = broker
        self.timeout = 0.25

    def settimeout(self, t):
        self.timeout = t

    def setsockopt(self, *args):
        pass

    def read(self, n):
        b = self.broker
        if b.down:
            raise OSError(104)
        if not b.wire:
            if self.timeout == 0:
                return None
            # A real socket would wait this long for nothing, then time out.
            b.waited_s += self.timeout
            raise OSError(110)
        d = bytes(b.wire[:n])
        b.wire = b.wire[n:]
        return d

    def write(self, buf, n=None):
        if self.broker.down:
            raise OSError(104)
        return len(buf) if n is None else n

    def close(self):
        pass


class Broker:
    def __init__(self):
        self.down = False
        self.published = []     # (topic, msg, retain, qos)
        self.incoming = []      # (topic bytes, msg bytes) for the next check_msg
        self.connects = 0
        self.refuse = set()     # server names whose connects fail (a dead cluster node)
        self.dialled = []       # (server, port) of every connect tried
        self.subscribed = []    # (topic, qos) of every SUBSCRIBE
        self.wire = b""         # what the client's socket reads next
        self.hold_subacks = False
        self.held = b""         # SUBACKs not sent yet
        self.waited_s = 0       # how long the client's reads would have blocked

    def answer_subscribes(self):
        self.wire += self.held
        self.held = b""


class Module:
    # Stands in for the `umqtt.simple` module: MQTTClient and `socket`.
    socket = None

    def __init__(self, broker):
        self.broker = broker
        module = self

        class MQTTClient:
            # The constructor's positional arguments every version shares.
            def __init__(self, client_id, server, port=0, user=None, password=None,
                         keepalive=0):
                self.client_id = client_id
                self.server = server
                self.port = port
                self.sock = None
                self.cb = None

            def set_callback(self, f):
                self.cb = f

            def set_last_will(self, topic, msg, retain=False, qos=0):
                pass

            def connect(self, clean_session=True):
                module.broker.dialled.append((self.server, self.port))
                if module.broker.down or self.server in module.broker.refuse:
                    raise OSError(111)
                module.broker.connects += 1
                module.broker.wire = b""
                module.broker.held = b""
                self.pid = 0
                self.sock = _link._Sock(_RawSock(module.broker), 0.25)
                return 0

            def publish(self, topic, msg, retain=False, qos=0):
                if module.broker.down:
                    raise OSError(104)
                module.broker.published.append((topic, msg, retain, qos))

            def subscribe(self, topic, qos=0):
                # As umqtt.simple does it: the packet out, then read until its SUBACK.
                assert self.cb is not None
                b = module.broker
                self.pid += 1
                self.sock.write(b"\x82")
                b.subscribed.append((topic, qos))
                suback = bytes((0x90, 3, self.pid >> 8, self.pid & 0xFF, qos))
                if b.hold_subacks:
                    b.held += suback
                else:
                    b.wire += suback
                while 1:
                    res = self.sock.read(1)
                    self.sock.setblocking(True)
                    if res is None:
                        continue
                    if res[0] == 0x90:
                        resp = self.sock.read(4)
                        assert resp[1] == self.pid >> 8 and resp[2] == self.pid & 0xFF
                        return

            def check_msg(self):
                b = module.broker
                if b.down:
                    raise OSError(104)
                if b.wire:
                    # umqtt's wait_msg: a packet that is not a PUBLISH is
                    # handed back by its first byte, the rest left unread.
                    self.sock.setblocking(False)
                    res = self.sock.read(1)
                    self.sock.setblocking(True)
                    if res:
                        return res[0]
                if b.incoming:
                    topic, msg = b.incoming.pop(0)
                    self.sock.op = 0x32      # a QoS 1 PUBLISH, not retained
                    self.cb(topic, msg)

            def ping(self):
                pass

            def disconnect(self):
                pass

        self.MQTTClient = MQTTClient
