"""Uplink figures for `make bench`, against a private mosquitto:

- signal latency from a zone trip (a BLE panic-button advert handed to the
  hub's radio) to the signed event arriving at a subscriber, p50/p99 over N
  signals, beside the publish-to-receive time of a bare umqtt.simple client
  (QoS 1, TCP_NODELAY) in the same run;
- sustained signals per second through the hub's flash outbox with acks;
- after a broker outage (90 s by default) with a panic queued in it, the time
  from the broker's return to the panic at the monitor (target: within 2 s).
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

from tools import paths
from tools.broker import Broker
from tools.hubsim import HubSim, HOST_LIB

from radio import bthome
from radio import bthome_encode
from uplink import wire
from uplink import wire_host

LONG_PRESS = 0x04     # the button event a panic zone trips on by default

BARE = r"""
import socket, time
from umqtt.simple import MQTTClient
c = MQTTClient("bare", "127.0.0.1", %(port)d)
c.connect()
c.sock.setsockopt(6, 1, 1)
for i in range(%(n)d):
    c.publish(b"bench/bare", str(time.time_ns()).encode(), False, 1)
    time.sleep_ms(%(gap)d)
c.disconnect()
"""


class Sub:
    def __init__(self, port, topic, on=None):
        self.got = []
        self.on = on
        self.lock = threading.Lock()
        ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sub-%d" % id(self))
        self.c.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic, 1)
        self.c.on_subscribe = lambda *a: ready.set()
        self.c.on_message = self._msg
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        ready.wait(5)

    def _msg(self, c, u, msg):
        now = time.time_ns()
        with self.lock:
            self.got.append((now, msg.payload))
        if self.on:
            self.on(msg.payload)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def bare(port, n, gap_ms):
    sub = Sub(port, "bench/bare")
    env = paths.micropython_env(HOST_LIB)
    subprocess.run([paths.venv_tool("micropython"), "-c", BARE % {"port": port, "n": n, "gap": gap_ms}],
                   env=env, check=True, timeout=300)
    time.sleep(0.5)
    sub.close()
    return [(t - int(p)) / 1e6 for t, p in sub.got]


def hub_latency(port, n, gap_ms, work):
    with open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")) as f:
        cfg = json.load(f)
    cfg["mqtt"]["port"] = port
    cfg["mqtt"]["test_interval"] = 86400
    secret = bytes.fromhex(cfg["secret"])
    hub_id = cfg["hub_id"]
    button = [z for z in cfg["zones"] if z["type"] == "panic"][0]
    key = bytes.fromhex(button["key"])
    base = "%s/%s/" % (cfg["mqtt"]["prefix"], hub_id)
    arrived = {}
    acker = []

    def on_event(payload):
        body = wire_host.check_event(secret, payload, hub_id)
        if body is None:
            return
        arrived.setdefault(body["signal"]["seq"], time.time_ns())
        acker[0].publish(base + "acks", wire_host.ack(secret, hub_id, [body["signal"]["seq"]],
                                                             int(time.time())), qos=1)

    sub = Sub(port, base + "events", on_event)
    acker.append(sub.c)
    sim = HubSim(os.path.join(work, "hub"), cfg, levels={18: 0, 21: 0}).start()
    sim.wait_for(lambda o: "boot" in o, timeout=20)
    deadline = time.monotonic() + 20
    while not arrived and time.monotonic() < deadline:   # connected: E305 came through
        time.sleep(0.05)
    time.sleep(0.5)
    counter = 1
    sent = {}
    seq0 = max(arrived) if arrived else 1
    for i in range(n):
        counter += 1
        adv = bthome_encode.encode([("packet_id", counter & 0xFF), ("button", LONG_PRESS)],
                                   button["mac"], key, counter).hex()
        sent[seq0 + 1 + i] = time.time_ns()
        sim.advert(button["mac"], adv)
        time.sleep(gap_ms / 1000)
    deadline = time.monotonic() + 30
    while len([s for s in sent if s in arrived]) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    lat = [(arrived[s] - sent[s]) / 1e6 for s in sent if s in arrived]
    # Sustained: a burst, all acked end to end.
    burst = 300
    first = max(arrived) + 1
    t0 = time.monotonic()
    for i in range(burst):
        counter += 1
        press = [("packet_id", counter & 0xFF), ("button", LONG_PRESS)]
        sim.advert(button["mac"], bthome_encode.encode(press, button["mac"], key, counter).hex())
        time.sleep(0.004)    # 250 adverts/s offered: more than any house sends
    deadline = time.monotonic() + 60
    while not all(s in arrived for s in range(first, first + burst)) and time.monotonic() < deadline:
        time.sleep(0.01)
    got = len([s for s in range(first, first + burst) if s in arrived])
    took = (max(arrived.values()) / 1e9 - time.time()) + (time.monotonic() - t0)
    sim.stop()
    sub.close()
    return lat, got / took, got, burst


def outage(work, down_s=90.0):
    """Seconds from the broker's return to a panic queued during an outage of
    down_s seconds, at a subscriber (the hub at real speed: the figure is the
    link's retry schedule)."""
    with open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")) as f:
        cfg = json.load(f)
    broker = Broker(os.path.join(work, "mosquitto-outage")).start()
    cfg["mqtt"]["port"] = broker.port
    cfg["mqtt"]["test_interval"] = 86400
    secret = bytes.fromhex(cfg["secret"])
    hub_id = cfg["hub_id"]
    button = [z for z in cfg["zones"] if z["type"] == "panic"][0]
    key = bytes.fromhex(button["key"])
    base = "%s/%s/" % (cfg["mqtt"]["prefix"], hub_id)
    got = {}
    sub = []

    def on_event(payload):
        body = wire_host.check_event(secret, payload, hub_id)
        if body is not None:
            got.setdefault(body["signal"]["code"], time.monotonic())
            sub[0].c.publish(base + "acks", wire_host.ack(secret, hub_id, [body["signal"]["seq"]],
                                                      int(time.time())), qos=1)

    sim = HubSim(os.path.join(work, "hub-outage"), cfg, levels={18: 0, 21: 0}).start()
    try:
        sub.append(Sub(broker.port, base + "events", on_event))
        deadline = time.monotonic() + 20
        while "E305" not in got and time.monotonic() < deadline:
            time.sleep(0.05)
        sub[0].close()
        sub.clear()
        broker.stop()
        t_down = time.monotonic()
        sim.advert(button["mac"], bthome_encode.encode([("packet_id", 7), ("button", LONG_PRESS)],
                                                       button["mac"], key, 7).hex())
        sim.wait_for(lambda o: o.get("signal", {}).get("code") == "E120", timeout=10)
        time.sleep(max(0.0, down_s - (time.monotonic() - t_down)))
        broker.start()
        back = time.monotonic()
        # The subscriber connects as fast as it can (paho, on loopback), then waits.
        sub.append(Sub(broker.port, base + "events", on_event))
        deadline = time.monotonic() + 120
        while "E120" not in got and time.monotonic() < deadline:
            time.sleep(0.01)
        return (got["E120"] - back) if "E120" in got else None
    finally:
        for s in sub:
            s.close()
        sim.stop()
        broker.stop()


def main(n=1000, down_s=90.0):
    work = tempfile.mkdtemp()
    with Broker(os.path.join(work, "mosquitto")) as b:
        raw = bare(b.port, n, 5)
        lat, rate, got, burst = hub_latency(b.port, n, 20, work)
    print("uplink (hub firmware under micropython, real mosquitto, %d signals)" % len(lat))
    print("  zone trip -> subscriber:  p50 %.2f ms  p99 %.2f ms" % (pct(lat, 50), pct(lat, 99)))
    print("  bare umqtt publish -> receive: p50 %.2f ms  p99 %.2f ms  (%d messages)"
          % (pct(raw, 50), pct(raw, 99), len(raw)))
    print("  ratio p50: %.1fx  (target: within 2x)" % (pct(lat, 50) / pct(raw, 50)))
    print("  sustained through the flash outbox with acks: %.0f signals/s (%d of %d)"
          % (rate, got, burst))
    sys.stdout.flush()
    back = outage(work, down_s)
    print("  panic queued in a %.0f s broker outage -> monitor: %s after the broker's return"
          " (target: within 2 s)" % (down_s, "%.2f s" % back if back is not None else "never"))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000,
                  float(sys.argv[2]) if len(sys.argv) > 2 else 90.0))
