"""What a hub's connection costs a broker: `python -m tools.bench_broker_connections`
(part of `make bench`, after tools/bench_broker_cluster.py; docs/sizing.md,
"Connections").

Simulated hubs connect as a hub does (MQTT 3.1.1, a clean session, keepalive
30 s, SUBSCRIBE to its acks and its commands), each on a TCP connection of its
own, spread over the nodes of a 3-node NATS cluster (tools/nats_cluster.py),
then to one mosquitto. Reported for each, from /proc:
  - sessions set up a second (CONNECT to both SUBACKs, 100 hubs at a time),
    and the SUBACK's p50 / p99;
  - the broker's CPU ms for each session set up (all nodes);
  - the broker's memory for each connected hub (RSS of all nodes, after the
    hubs connected minus before);
  - the broker's CPU while the hubs idle, pinging every 30 s, per 1,000 hubs
    (the broker's own idle CPU, measured first, taken off).
On NATS once as `monitor broker write` installs it (TLS, a login per hub
checked against its bcrypt hash), then plain with the hubs' QoS 0
subscriptions, and with QoS 1 ones, which a node makes a JetStream consumer
each, replicated on three nodes: the figures that made hubs subscribe at QoS 0
(firmware/uplink/link.py).

The hubs are a few lines of MQTT over asyncio (CONNECT, SUBSCRIBE, PINGREQ):
a paho client is a thread each, and a thousand threads would measure this
process, not the broker."""
import asyncio
import json
import os
import resource
import ssl
import sys
import tempfile
import time

from monitor import broker_cluster
from tools.bench_monitor import _cpu_s
from tools.broker import Broker
from tools.nats_cluster import Cluster, free_base

N_NATS = 1000
N_NATS_QOS1 = 300       # 20 ms of CPU and 0.7 MB each: more would swamp 2 cores
N_MOSQUITTO = 2000
N_NATS_TLS = 200        # as installed: TLS, a login per hub (bcrypt), QoS 0
IDLE_S = 30.0
KEEPALIVE_S = 30        # a hub's mqtt.keepalive_s
AT_ONCE = 100           # sessions being set up at the same time
BASELINE_S = 5.0        # the broker alone, before any hub
SETTLE_S = 5.0          # after the last SUBACK, before the idle hubs are measured

_CONNECT = 0x10
_CONNACK = 0x20
_SUBSCRIBE = 0x82
_SUBACK = 0x90
_PINGREQ = b"\xc0\x00"


def _length(n):
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(b):
    return len(b).to_bytes(2, "big") + b


def connect_packet(client_id, keepalive_s=KEEPALIVE_S, user=None, password=None):
    flags = 0x02 | (0xC0 if user else 0)        # clean session; a login
    var = _str(b"MQTT") + bytes([4, flags]) + keepalive_s.to_bytes(2, "big") + _str(client_id)
    if user:
        var += _str(user) + _str(password)
    return bytes([_CONNECT]) + _length(len(var)) + var


def subscribe_packet(packet_id, topics, qos):
    var = packet_id.to_bytes(2, "big") + b"".join(_str(t) + bytes([qos]) for t in topics)
    return bytes([_SUBSCRIBE]) + _length(len(var)) + var


async def read_packet(reader):
    """(first byte, the rest) of the next MQTT packet."""
    first = (await reader.readexactly(1))[0]
    n, mult = 0, 1
    while True:
        b = (await reader.readexactly(1))[0]
        n += (b & 127) * mult
        mult *= 128
        if not b & 128:
            return first, await reader.readexactly(n)


def hub_id(i):
    return "bench-%06d" % i


async def _hub(i, port, qos, prefix, gate, subacks, links, access=None):
    async with gate:
        hub = hub_id(i).encode()
        if access is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(connect_packet(hub))
        else:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=access.tls, server_hostname="localhost")
            writer.write(connect_packet(hub, user=hub,
                                        password=access.password(hub.decode()).encode()))
        kind, body = await read_packet(reader)
        if kind != _CONNACK or body[1] != 0:
            raise RuntimeError("CONNACK %r for %s" % (body, hub))
        t0 = time.monotonic()
        writer.write(subscribe_packet(1, [b"%s/%s/acks" % (prefix, hub),
                                          b"%s/%s/commands" % (prefix, hub)], qos))
        kind, body = await read_packet(reader)
        if kind != _SUBACK or body[2:] != bytes([qos, qos]):
            raise RuntimeError("SUBACK %r for %s" % (body, hub))
        subacks.append(time.monotonic() - t0)
    links.append((reader, writer))


async def _ping(reader, writer, delay_s, keepalive_s):
    await asyncio.sleep(delay_s)
    while True:
        writer.write(_PINGREQ)
        await read_packet(reader)
        await asyncio.sleep(keepalive_s)


def _rss_kb(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            total += int(f.read().split("VmRSS:")[1].split()[0])
    return total


async def _warm(port, access, timeout_s=60):
    """A node makes an account's MQTT streams on its first MQTT connection and
    drops the connections that come meanwhile (JetStream timeouts): one hub
    first, until it is taken, so that the figures are the sessions', not that."""
    deadline = time.monotonic() + timeout_s
    while True:
        writer = None
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=access.tls, server_hostname="localhost")
            writer.write(connect_packet(hub_id(0).encode(), user=hub_id(0).encode(),
                                        password=access.password(hub_id(0)).encode()))
            kind, body = await read_packet(reader)
            if kind == _CONNACK and body[1] == 0:
                return
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if writer is not None:
                writer.close()
        if time.monotonic() > deadline:
            raise RuntimeError("no node took a hub's session in %d s" % timeout_s)
        await asyncio.sleep(0.5)


async def _measure(ports, pids, n, qos, idle_s, keepalive_s, baseline_s, prefix=b"alarm",
                   access=None):
    if access is not None:
        await _warm(ports[0], access)
    c0, t0 = _cpu_s(pids), time.monotonic()
    await asyncio.sleep(baseline_s)
    quiet = (_cpu_s(pids) - c0) / (time.monotonic() - t0)
    rss0 = _rss_kb(pids)
    gate, subacks, links = asyncio.Semaphore(AT_ONCE), [], []
    c0, t0 = _cpu_s(pids), time.monotonic()
    await asyncio.gather(*(_hub(i, ports[i % len(ports)], qos, prefix, gate, subacks, links,
                                access) for i in range(n)))
    setup_s, setup_cpu = time.monotonic() - t0, _cpu_s(pids) - c0
    rss = _rss_kb(pids) - rss0
    # Each hub pings every keepalive_s, the hubs spread evenly over it.
    pings = [asyncio.ensure_future(_ping(r, w, k * keepalive_s / n, keepalive_s))
             for k, (r, w) in enumerate(links)]
    # What a node does just after (its session stream's writes) is set-up work.
    await asyncio.sleep(min(SETTLE_S, baseline_s))
    c0, t0 = _cpu_s(pids), time.monotonic()
    await asyncio.sleep(idle_s)
    idle = (_cpu_s(pids) - c0) / (time.monotonic() - t0)
    for p in pings:
        p.cancel()
    for _, w in links:
        w.close()
    subacks.sort()
    return {"hubs": n, "qos": qos, "per_s": n / setup_s,
            "setup_cpu_ms": setup_cpu * 1000 / n, "kb_per_hub": rss / n,
            "idle_cores_per_1000": max(0.0, idle - quiet) * 1000 / n, "quiet_cores": quiet,
            "suback_p50_ms": subacks[len(subacks) // 2] * 1000,
            "suback_p99_ms": subacks[min(n - 1, int(n * 0.99))] * 1000}


def _open_files(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * n + 100)), hard))


def _tls_cluster(work, n):
    """Three nodes as `monitor broker write` writes them for n hubs: TLS, and a
    login per hub, checked against its bcrypt hash on every CONNECT."""
    hubs = [hub_id(i) for i in range(n)]
    access = broker_cluster.write(os.path.join(work, "access"), hubs, ["127.0.0.1"] * 3,
                                  port=free_base(), service_port=free_base(),
                                  route_port=free_base())
    access.tls = ssl.create_default_context(cafile=access.ca)
    return access, Cluster(os.path.join(work, "run"), access=access)


def measure(n_nats=N_NATS, n_nats_qos1=N_NATS_QOS1, n_mosquitto=N_MOSQUITTO, idle_s=IDLE_S,
            keepalive_s=KEEPALIVE_S, baseline_s=BASELINE_S, n_nats_tls=N_NATS_TLS, work=None):
    _open_files(max(n_nats, n_mosquitto))
    work = work or tempfile.mkdtemp(prefix="bench-conns-")
    fig = {}
    access, cluster = _tls_cluster(os.path.join(work, "nats-tls"), n_nats_tls)
    cluster.start()
    try:
        fig["nats_tls"] = asyncio.run(_measure(
            [node.mqtt_port for node in access.nodes], [p.pid for p in cluster.procs],
            n_nats_tls, 0, idle_s, keepalive_s, baseline_s, access=access))
    finally:
        cluster.stop()
    for qos, n in ((0, n_nats), (1, n_nats_qos1)):
        # A fresh cluster each: what the other left behind is not counted.
        cluster = Cluster(os.path.join(work, "nats-qos%d" % qos)).start()
        try:
            fig["nats_qos%d" % qos] = asyncio.run(_measure(
                cluster.mqtt_ports, [p.pid for p in cluster.procs], n, qos, idle_s,
                keepalive_s, baseline_s))
        finally:
            cluster.stop()
    broker = Broker(os.path.join(work, "mosquitto")).start()
    try:
        fig["mosquitto"] = asyncio.run(_measure([broker.port], [broker.proc.pid], n_mosquitto,
                                                0, idle_s, keepalive_s, baseline_s))
    finally:
        broker.stop()
    return fig


def _line(name, f):
    return ("  %-22s %5d hubs: %5.0f sessions/s set up (SUBACK p50 %4.0f ms, p99 %5.0f ms),"
            " %6.2f ms CPU each; %6.1f KB a hub; idle %.3f cores per 1,000 hubs"
            % (name, f["hubs"], f["per_s"], f["suback_p50_ms"], f["suback_p99_ms"],
               f["setup_cpu_ms"], f["kb_per_hub"], f["idle_cores_per_1000"]))


def main(**kw):
    """Print the lines for `make bench`; return the figures for its JSON."""
    print("broker connections (each hub its own connection: clean session, keepalive %d s,"
          " SUBSCRIBE acks and commands; 3 nats-server nodes, then one mosquitto; brokers"
          " and hubs share this machine's %d cores)" % (kw.get("keepalive_s", KEEPALIVE_S),
                                                         os.cpu_count()), flush=True)
    fig = measure(**kw)
    print(_line("NATS, TLS + login", fig["nats_tls"]), flush=True)
    print(_line("NATS, QoS 0 (as hubs)", fig["nats_qos0"]), flush=True)
    print(_line("NATS, QoS 1", fig["nats_qos1"]), flush=True)
    print(_line("mosquitto", fig["mosquitto"]), flush=True)
    q0, q1 = fig["nats_qos0"], fig["nats_qos1"]
    fig["qos1_setup_ratio"] = q1["setup_cpu_ms"] / max(q0["setup_cpu_ms"], 1e-9)
    fig["qos1_kb_ratio"] = q1["kb_per_hub"] / max(q0["kb_per_hub"], 1e-9)
    print("  a QoS 1 subscription costs a NATS node %.0fx the CPU to set up and %.0fx the"
          " memory of a QoS 0 one" % (fig["qos1_setup_ratio"], fig["qos1_kb_ratio"]),
          flush=True)
    return {k: ({kk: round(vv, 3) for kk, vv in v.items()} if isinstance(v, dict)
                else round(v, 1)) for k, v in fig.items()}


if __name__ == "__main__":
    print(json.dumps(main(**({"n_nats": 200, "n_nats_qos1": 60, "n_mosquitto": 200,
                              "n_nats_tls": 40, "idle_s": 5.0}
                             if "--quick" in sys.argv else {}))))
