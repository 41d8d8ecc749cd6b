"""Shared by the broker cluster's tests (a module of its own: test files import
it, never each other): an MQTT client with a login of what
monitor.broker_cluster.write made."""
import queue
import threading

import paho.mqtt.client as mqtt


class Client:
    def __init__(self, access, port, user, password=None, subscribe=(), tls=True):
        self.q = queue.Queue()
        self.rc = None
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user or "anon",
                             protocol=mqtt.MQTTv311)
        if tls:
            self.c.tls_set(ca_certs=access.ca)
        if user:
            self.c.username_pw_set(user, password or access.password(user))
        self.subs = list(subscribe)
        self.granted = None
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = lambda c, u, m: self.q.put((m.topic, m.payload, m.retain))
        self.c.connect("127.0.0.1", port, keepalive=10)
        self.c.loop_start()

    def _on_connect(self, c, u, flags, rc, props=None):
        self.rc = rc
        if rc == 0 and self.subs:
            c.subscribe([(s, 1) for s in self.subs])
        else:
            self.ready.set()

    def _on_subscribe(self, c, u, mid, granted, props=None):
        self.granted = [g.value if hasattr(g, "value") else g for g in granted]
        self.ready.set()

    def got(self, timeout=10):
        return self.q.get(timeout=timeout)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()
