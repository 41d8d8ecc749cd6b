"""What the owner's app shows of a hub right now: its state word, whether it is
online, and which of its doors and windows are open, as the hub publishes them
retained for dashboards (docs/protocol.md: state, availability, zone/<level>,
and the zones' discovery configs for their names and kinds).

Read-only and for people: alarms never depend on it (they come as signed events
to the receiver). One MQTT client of its own with the monitor's broker login,
started on the first look, so a service nobody opens the app on holds none. On
a broker cluster split over NATS accounts, retained messages stay in their
account: one client per account's login (Settings.app_logins), all into the
same view (a hub id is in one account only)."""
import json
import threading
import uuid

import paho.mqtt.client as mqtt

from monitor import mqtt_nodelay


class HubView:
    def __init__(self, settings, discovery_prefix="homeassistant"):
        self.s = settings
        self.discovery = discovery_prefix
        self.lock = threading.Lock()
        self.hubs = {}          # hub -> {"state", "online", "zones": {level: ON|OFF}, "kinds"}
        self.clients = None

    def start(self):
        with self.lock:
            if self.clients is not None:
                return
            self.clients = [self._client(user)
                            for user in (self.s.app_logins or (self.s.username,))]

    def _client(self, user):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                        client_id="monitor-app-%s" % uuid.uuid4().hex[:8],
                        clean_session=True, protocol=mqtt.MQTTv311)
        mqtt_nodelay.no_delay(c)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.reconnect_delay_set(0.2, 5)
        if self.s.tls_ca:
            c.tls_set(ca_certs=self.s.tls_ca)
        if user:
            c.username_pw_set(user, self.s.password)
        c.connect_async(self.s.host, self.s.port, keepalive=30)
        c.loop_start()
        return c

    def stop(self):
        with self.lock:
            clients, self.clients = self.clients or [], None
        for c in clients:
            c.disconnect()
            c.loop_stop()

    def _on_connect(self, client, userdata, flags, rc, props=None):
        p = self.s.prefix
        client.subscribe([("%s/+/state" % p, 1), ("%s/+/availability" % p, 1),
                          ("%s/+/zone/+" % p, 1),
                          ("%s/binary_sensor/+/+/config" % self.discovery, 1)])

    def _on_message(self, client, userdata, msg):
        parts = msg.topic.split("/")
        text = msg.payload.decode("utf-8", "replace")
        with self.lock:
            if parts[0] == self.discovery and len(parts) == 5:
                self._kind(parts[2], parts[3], text)
            elif len(parts) >= 3:
                hub = self._hub(parts[1])
                if parts[2] == "state":
                    hub["state"] = text
                elif parts[2] == "availability":
                    hub["online"] = text == "online"
                elif parts[2] == "zone" and len(parts) == 4:
                    hub["zones"][parts[3]] = text

    def _hub(self, hub):
        return self.hubs.setdefault(hub, {"state": None, "online": None, "zones": {},
                                          "kinds": {}})

    def _kind(self, hub, level, text):
        try:
            cfg = json.loads(text) if text else None
        except ValueError:
            return
        if isinstance(cfg, dict):
            # A momentary zone (motion, glass, panic) turns itself off after
            # off_delay: it is never "open", only tripped.
            self._hub(hub)["kinds"][level] = {"name": str(cfg.get("name") or level),
                                               "momentary": bool(cfg.get("off_delay"))}

    def of(self, hub):
        """{"state", "online", "open": [zone names]} for one hub (None: not heard yet)."""
        with self.lock:
            h = self.hubs.get(hub)
            if h is None:
                return {"state": None, "online": None, "open": []}
            open_ = []
            for level, value in sorted(h["zones"].items()):
                kind = h["kinds"].get(level, {"name": level, "momentary": False})
                if value == "ON" and not kind["momentary"]:
                    open_.append(kind["name"].replace("_", " "))
            return {"state": h["state"], "online": h["online"], "open": open_}
