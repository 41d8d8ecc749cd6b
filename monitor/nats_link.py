"""The monitor's connection to a NATS broker cluster (monitor/broker_cluster.py),
in place of paho when `monitor run --nats` is given.

Neither broker of Debian's that clusters (nats-server, rabbitmq-server) has
MQTT shared subscriptions, so the workers do not read the events over MQTT:
they subscribe to the events' NATS subject as one queue group, where each
message goes to one worker, as $share does on mosquitto. A message a worker
took and then died with is not lost: the hub resends every signal until its
signed ack comes, and the store keeps one of each (hub, seq). Acks and
commands are published on the hubs' subjects, which the nodes hand to the
hubs' MQTT subscriptions. The client knows every node and moves to another
when one goes.

nats-py is asyncio: its loop runs on a thread of its own here; the paho-like
methods below are called from the receiver's and the engine's threads."""
import asyncio
import logging
import ssl
import threading

from monitor.broker_cluster import subject, topic

log = logging.getLogger("monitor")


class Published:
    def __init__(self, future):
        self.future = future

    def wait_for_publish(self, timeout=None):
        self.future.result(timeout)


class NatsLink:
    def __init__(self, servers, subscriptions, on_message, on_state, user=None,
                 password=None, tls_ca=None, name=None):
        """servers: nats:// URLs; subscriptions: [(MQTT topic filter, queue group
        or None)]; on_message(topic, payload); on_state(connected)."""
        self.servers = list(servers)
        self.subscriptions = subscriptions
        self.on_message = on_message
        self.on_state = on_state
        self.user, self.password, self.tls_ca, self.name = user, password, tls_ca, name
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="nats", daemon=True)
        self.nc = None
        self.subscribed = threading.Event()

    def start(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._connect(), self.loop)
        return self

    async def _connect(self):
        import nats
        tls = ssl.create_default_context(cafile=self.tls_ca) if self.tls_ca else None
        while self.nc is None:
            try:
                self.nc = await nats.connect(
                    self.servers, user=self.user, password=self.password, tls=tls,
                    name=self.name, max_reconnect_attempts=-1, reconnect_time_wait=0.2,
                    connect_timeout=2, allow_reconnect=True,
                    disconnected_cb=self._down, reconnected_cb=self._up,
                    error_cb=self._error)
            except Exception as e:      # no node up yet: keep trying, as paho does
                log.warning("no NATS node took the connection: %s", e)
                await asyncio.sleep(1)
        for filt, queue in self.subscriptions:
            await self.nc.subscribe(subject(filt), queue=queue or "", cb=self._got)
        await self.nc.flush()
        self.on_state(True)
        self.subscribed.set()

    async def _got(self, msg):
        self.on_message(topic(msg.subject), msg.data)

    async def _down(self):
        self.on_state(False)

    async def _up(self):
        self.on_state(True)

    async def _error(self, e):
        log.warning("NATS: %s", e)

    def publish(self, mqtt_topic, payload, qos=1):
        """qos is MQTT's: a hub's subscription takes what NATS hands it at most once,
        which the hub's resend covers."""
        if isinstance(payload, str):
            payload = payload.encode()
        return Published(asyncio.run_coroutine_threadsafe(
            self._publish(subject(mqtt_topic), payload), self.loop))

    async def _publish(self, subj, payload):
        if self.nc is None:
            raise ConnectionError("not connected to any NATS node")
        await self.nc.publish(subj, payload)

    def disconnect(self):
        if self.nc is not None:
            try:
                asyncio.run_coroutine_threadsafe(self.nc.drain(), self.loop).result(5)
            except Exception:
                pass

    def loop_stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
