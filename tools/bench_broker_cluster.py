"""A NATS broker cluster's rate beside one mosquitto's: `python -m
tools.bench_broker_cluster` (part of `make bench`; docs/sizing.md, "Broker").

Three nats-server nodes with JetStream and their MQTT listener, as
host_tests/monitor/test_broker_cluster.py starts them, and then one mosquitto,
each taking the same flood of signed QoS 1 events from simulated hubs
(tools/hubs.py, fast=True) on several connections spread over the nodes.
Reported for each broker, from the same run:
  - signals/s taken: from the first publish to the last PUBACK (on NATS each
    QoS 1 message is stored in a stream replicated on 3 nodes first);
  - signals/s delivered to two competing consumers, as the service's workers
    take the events: a NATS queue group on the cluster (the workers read the
    events over NATS, docs/monitoring.md, "Broker cluster"), a $share
    subscription on mosquitto. The consumers are bare (nats-py, paho) and do
    nothing with a message: the figure is the broker's, not a worker's;
  - the broker processes' CPU seconds per 1,000 signals (/proc).
Then the same with two service workers on SQLite (verified, stored and acked):
a worker is the limit there, which is why the bare figures are the broker's."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from tools import children, paths
from tools.bench_monitor import BROKER_CONF, _cpu_s, _many_accounts, _start_service, _stop
from tools.broker import Broker
from tools.hubs import Hubs
from tools.nats_cluster import Cluster

N_SIGNALS = 5000
N_HUBS = 300
# A node stores one QoS 1 message of a connection at a time before its PUBACK
# (docs/monitoring.md, "Broker cluster"): with one connection per node the
# figure is a round trip's, not the node's. Real hubs have a connection each;
# more than 4 per node here and the generator's paho threads set the pace.
CONNECTIONS_PER_NODE = 4
N_SERVICE = 2000
SHARE = "bench"
# How long a consumer may see nothing before the run counts what arrived.
DELIVERY_TIMEOUT_S = 30


class _Fleet(Hubs):
    """Hubs that note when the last PUBACK came (the broker took everything)."""

    def __init__(self, *a, **kw):
        self.last_puback = None
        super().__init__(*a, **kw)

    def _on_publish(self, c, userdata, mid, *args):
        self.last_puback = time.monotonic()
        super()._on_publish(c, userdata, mid, *args)

    def unpubacked(self):
        with self._flight:
            return len(self.in_flight)


def consumer(kind, where, filt):
    """Subprocess body: take the events as one of a group of competing consumers
    and do nothing else; print {"got", "t_last", "cpu_s"} whenever the count moved
    (every 0.1 s at most) until stdin closes."""
    got = [0]
    t_last = [0.0]
    lock = threading.Lock()

    def took():
        with lock:
            got[0] += 1
            t_last[0] = time.monotonic()
    if kind == "nats":
        import asyncio
        import nats
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def run():
            nc = await nats.connect([where], connect_timeout=5)

            async def cb(msg):
                took()
            subject, queue = filt.split(" ")
            await nc.subscribe(subject, queue=queue, cb=cb,
                               pending_msgs_limit=N_SIGNALS * 100)
            await nc.flush()
            ready.set()
        loop.run_until_complete(run())
        threading.Thread(target=loop.run_forever, daemon=True).start()
    else:
        import paho.mqtt.client as mqtt

        from monitor import mqtt_nodelay
        ready = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bare-%d" % os.getpid())
        mqtt_nodelay.no_delay(c)
        c.max_queued_messages_set(0)
        c.on_message = lambda *a: took()
        c.on_subscribe = lambda *a: ready.set()
        host, port = where.rsplit(":", 1)
        c.connect(host, int(port))
        c.subscribe(filt, 1)
        c.loop_start()
    if not ready.wait(20):
        sys.exit("consumer could not subscribe")
    print("ready", flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    said = -1
    while not stop.wait(0.1):
        with lock:
            n, t = got[0], t_last[0]
        if n != said:
            print(json.dumps({"got": n, "t_last": t, "cpu_s": time.process_time()}), flush=True)
            said = n


class _Consumers:
    def __init__(self, kind, places, filt):
        self.procs, self.last = [], []
        try:
            for where in places:
                p = subprocess.Popen([sys.executable, "-m", "tools.bench_broker_cluster",
                                      "--consume", kind, where, filt], cwd=paths.ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                self.procs.append(p)
                if p.stdout.readline().strip() != "ready":
                    raise RuntimeError("a %s consumer did not subscribe" % kind)
                self.last.append({"got": 0, "t_last": 0.0, "cpu_s": 0.0})
                threading.Thread(target=self._read, args=(len(self.procs) - 1,),
                                 daemon=True).start()
        except BaseException:
            self.close()
            raise

    def _read(self, i):
        for line in self.procs[i].stdout:
            self.last[i] = json.loads(line)

    def got(self):
        return sum(r["got"] for r in self.last)

    def wait(self, n, timeout):
        """Until n arrived, or nothing more came for `timeout` s."""
        seen, quiet_since = -1, time.monotonic()
        while self.got() < n:
            if self.got() != seen:
                seen, quiet_since = self.got(), time.monotonic()
            elif time.monotonic() - quiet_since > timeout:
                return False
            time.sleep(0.02)
        return True

    def close(self):
        children.end(self.procs, wait_s=10, by_stdin=True)


def _fleets(ports, prefix, secrets, per_node):
    """per_node connections on each broker port; a fleet on node k knows every
    node, its own first, as test_broker_cluster.py spreads them."""
    names = sorted(secrets)
    slots = len(ports) * per_node
    fleets = []
    try:
        for s in range(slots):
            k = s % len(ports)
            mine = {h: secrets[h] for h in names[s::slots]}
            order = [("127.0.0.1", p) for p in ports[k:] + ports[:k]]
            fleets.append(_Fleet(ports[k], prefix, mine, fast=True, inflight=0, nodes=order))
    except BaseException:
        for f in fleets:
            f.close()
        raise
    return fleets


def _flood(fleets, n):
    """n routine signals, round-robin over the connections and their hubs."""
    keys = []
    for i in range(n):
        f = fleets[i % len(fleets)]
        hub = f.names[(i // len(fleets)) % len(f.names)]
        keys.append((f, (hub, f.signal(hub, "E602" if i % 2 else "R401"))))
    return keys


def _wait_pubacked(fleets, timeout):
    deadline = time.monotonic() + timeout
    while any(f.unpubacked() for f in fleets):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def bare_rate(ports, consumer_kind, places, filt, prefix, broker_pids, n, per_node):
    """{"taken_per_s", "delivered_per_s", "cpu_s_per_1000"} of one flood of n
    signals; raises if the broker did not PUBACK or deliver them all."""
    secrets = {"hub-%04d" % i: os.urandom(32) for i in range(N_HUBS)}
    consumers = _Consumers(consumer_kind, places, filt)
    fleets = []
    try:
        fleets = _fleets(ports, prefix, secrets, per_node)
        cpu0 = [_cpu_s([p]) for p in broker_pids]
        t0 = time.monotonic()
        _flood(fleets, n)
        if not _wait_pubacked(fleets, DELIVERY_TIMEOUT_S):
            raise RuntimeError("%d of %d signals not PUBACKed"
                               % (sum(f.unpubacked() for f in fleets), n))
        t_taken = max(f.last_puback for f in fleets) - t0
        delivered = consumers.wait(n, DELIVERY_TIMEOUT_S)
        cpu = [_cpu_s([p]) - c for p, c in zip(broker_pids, cpu0)]
    finally:
        for f in fleets:
            f.close()
        consumers.close()
    got = consumers.got()
    if not delivered or got != n:
        raise RuntimeError("%d of %d signals delivered" % (got, n))
    t_delivered = max(r["t_last"] for r in consumers.last) - t0
    return {"taken_per_s": n / t_taken, "delivered_per_s": n / t_delivered,
            "cpu_s_per_1000": sum(cpu) * 1000 / n,
            "process_cpu_s_per_1000": [c * 1000 / n for c in cpu]}


def service_rate(ports, db, port, prefix, service_args, broker_pids, n, per_node):
    """{"per_s", "cpu_s_per_1000", "broker_cpu_s_per_1000"}: n signals verified,
    stored and acked by two service workers sharing the events."""
    secrets = {"svc-%04d" % i: os.urandom(32) for i in range(N_HUBS)}
    _many_accounts(db, secrets)
    procs, fleets = [], []
    try:
        for _ in range(2):
            procs.append(_start_service(db, port, prefix, "--share", SHARE, *service_args))
        fleets = _fleets(ports, prefix, secrets, per_node)
        cpu0, broker0 = _cpu_s(procs), _cpu_s(broker_pids)
        t0 = time.monotonic()
        keys = _flood(fleets, n)
        for f in fleets:
            if not f.wait_acked([k for g, k in keys if g is f], timeout=DELIVERY_TIMEOUT_S * 2):
                raise RuntimeError("the service acked %d of %d signals"
                                   % (sum(len(g.acked) for g in fleets), n))
        took = max(max(f.acked.values()) for f in fleets) - t0
        cpu, broker_cpu = _cpu_s(procs) - cpu0, _cpu_s(broker_pids) - broker0
    finally:
        for f in fleets:
            f.close()
        _stop(procs)
    return {"per_s": n / took, "cpu_s_per_1000": cpu * 1000 / n,
            "broker_cpu_s_per_1000": broker_cpu * 1000 / n}


def measure(n=N_SIGNALS, per_node=CONNECTIONS_PER_NODE, n_service=N_SERVICE, work=None):
    """The cluster's figures and mosquitto's, from one run: {"nats": {...},
    "mosquitto": {...}}, each bare_rate's figures and, when n_service, "service"."""
    own = work is None
    work = work or tempfile.mkdtemp(prefix="broker-bench-")
    figures = {}
    try:
        cluster = Cluster(os.path.join(work, "nats"))
        try:
            # Stopped below also when it fails to start: a node may be up.
            cluster.start()
            urls = cluster.nats_urls
            pids = [p.pid for p in cluster.procs]
            figures["nats"] = bare_rate(
                cluster.mqtt_ports, "nats", urls[:2], "bench.*.events " + SHARE, "bench",
                pids, n, per_node)
            if n_service:
                figures["nats"]["service"] = service_rate(
                    cluster.mqtt_ports, os.path.join(work, "nats.db"), cluster.mqtt_ports[0],
                    "service", ["--nats", ",".join(urls)], pids, n_service, per_node)
        finally:
            cluster.stop()
        broker = Broker(os.path.join(work, "mosquitto"), extra=BROKER_CONF).start()
        try:
            where = "127.0.0.1:%d" % broker.port
            # As many connections as on the cluster, all on the one broker.
            figures["mosquitto"] = bare_rate(
                [broker.port], "mqtt", [where, where], "$share/%s/bench/+/events" % SHARE,
                "bench", [broker.proc.pid], n, per_node * 3)
            if n_service:
                figures["mosquitto"]["service"] = service_rate(
                    [broker.port], os.path.join(work, "mosquitto.db"), broker.port, "service",
                    [], [broker.proc.pid], n_service, per_node * 3)
        finally:
            broker.stop()
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return figures


def _nats_version():
    from tools.nats_cluster import ensure_nats
    done = subprocess.run([ensure_nats(), "--version"], capture_output=True, text=True)
    return done.stdout.strip().rsplit(" ", 1)[-1]


def _rounded(fig):
    out = {}
    for k, v in fig.items():
        if isinstance(v, dict):
            out[k] = _rounded(v)
        elif isinstance(v, list):
            out[k] = [round(x, 2) for x in v]
        else:
            out[k] = round(v, 2) if v < 100 else round(v)
    return out


def main(n=N_SIGNALS, per_node=CONNECTIONS_PER_NODE, n_service=N_SERVICE):
    """Print the lines for `make bench`; return the figures for its JSON."""
    conns = 3 * per_node
    print("broker cluster (3 nats-server %s nodes, JetStream, QoS 1 stored on 3 replicas"
          " before the PUBACK) beside one mosquitto: %d signals from %d hubs on %d"
          " connections; brokers, hubs and consumers share this machine's %d cores"
          % (_nats_version(), n, N_HUBS, conns, os.cpu_count()), flush=True)
    t0 = time.monotonic()
    fig = measure(n, per_node, n_service)
    nats, mosq = fig["nats"], fig["mosquitto"]
    fig["cpu_ratio"] = nats["cpu_s_per_1000"] / max(mosq["cpu_s_per_1000"], 1e-9)
    fig["wall_s"] = time.monotonic() - t0
    print("  NATS, 3 nodes: %5.0f signals/s taken (PUBACKed), %5.0f/s delivered to 2 queue-group"
          " consumers (mosquitto %.0f/s, %.0f/s); CPU s per 1,000: %.2f (nodes %s) = %.1fx"
          " mosquitto's %.2f" % (
              nats["taken_per_s"], nats["delivered_per_s"], mosq["taken_per_s"],
              mosq["delivered_per_s"], nats["cpu_s_per_1000"],
              "+".join("%.2f" % c for c in nats["process_cpu_s_per_1000"]), fig["cpu_ratio"],
              mosq["cpu_s_per_1000"]), flush=True)
    if n_service:
        sn, sm = nats["service"], mosq["service"]
        fig["service_cpu_ratio"] = sn["broker_cpu_s_per_1000"] / max(
            sm["broker_cpu_s_per_1000"], 1e-9)
        print("  with 2 service workers (SQLite; %d signals, each acked): %.0f signals/s on"
              " NATS, %.0f on mosquitto (the workers' pace); broker CPU s per 1,000, acks"
              " included: NATS %.2f = %.1fx mosquitto's %.2f" % (
                  n_service, sn["per_s"], sm["per_s"], sn["broker_cpu_s_per_1000"],
                  fig["service_cpu_ratio"], sm["broker_cpu_s_per_1000"]), flush=True)
    return _rounded(fig)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--consume":
        consumer(*sys.argv[2:])
        sys.exit(0)
    print(json.dumps(main()))
