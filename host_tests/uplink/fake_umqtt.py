# umqtt.simple's API as every version the firmware supports has it (1.3.4 on
# PyPI, 1.7.0 frozen in stock v1.28, 1.8.x), and nothing more: a link that
# calls anything else, or passes an argument one of them lacks, fails here.
# In RAM: what the link publishes is recorded, what the test puts in
# `incoming` is delivered by check_msg(). Set `down` to refuse connects.
from uplink import link as _link


class _RawSock:
    def settimeout(self, t):
        pass

    def setsockopt(self, *args):
        pass

    def read(self, n):
        return None

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
                self.sock = _link._Sock(_RawSock(), 0.25)
                return 0

            def publish(self, topic, msg, retain=False, qos=0):
                if module.broker.down:
                    raise OSError(104)
                module.broker.published.append((topic, msg, retain, qos))

            def subscribe(self, topic, qos=0):
                assert self.cb is not None

            def check_msg(self):
                b = module.broker
                if b.down:
                    raise OSError(104)
                if b.incoming:
                    topic, msg = b.incoming.pop(0)
                    self.sock.op = 0x32      # a QoS 1 PUBLISH, not retained
                    self.cb(topic, msg)

            def ping(self):
                pass

            def disconnect(self):
                pass

        self.MQTTClient = MQTTClient
