"""Benchmark of the monitoring endpoint: `python -m monitor.bench`.

On a private mosquitto, 100 simulated hubs publish signed events as fast as the
broker takes them. Reported, all from the same run:
  - a bare paho subscriber's receive rate of the stream (the ceiling: MQTT +
    paho in one Python process, doing nothing with the messages);
  - signals/s verified, stored (committed, fsync'd) and acked by one service process;
  - the same with two processes on a shared subscription, and the speed-up;
  - time from publishing an alarm to its first plan steps (case open, call placed)
    leaving the service, p50/p99, at a paced rate."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from tools import paths
from tools.broker import Broker
from monitor import accounts
from monitor.hubs import Hubs
from monitor.store import Store

N_HUBS = 100
N_SIGNALS = 5000
N_ALARMS = 300


def _accounts(db, secrets):
    store = Store(db)
    for hub, secret in secrets.items():
        accounts.add(store, hub, secret, [{"name": "Owner", "phone": "+1 555 0100"}])
    store.close()


def _start_service(db, port, prefix, *args):
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--db", db, "--port",
                             str(port), "--prefix", prefix] + list(args), cwd=paths.ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "subscribed" in line:
            return proc
    raise RuntimeError("service did not start")


def _stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(10)


def _flood(hubs, secrets, n):
    """Publish n routine signals round-robin over the hubs; seconds until all acked."""
    names = sorted(secrets)
    t0 = time.monotonic()
    for i in range(n):
        hubs.signal(names[i % len(names)], "E602" if i % 2 else "R401", zone=0)
    if not hubs.wait_acked(timeout=300, resend_s=30):
        raise RuntimeError("not everything was acked")
    last = max(hubs.acked.values())
    return last - t0


def bare_subscriber(port, prefix, n):
    """Subprocess body: receive n events with paho and do nothing else."""
    import paho.mqtt.client as mqtt
    got = [0]
    done = threading.Event()
    ready = threading.Event()
    first = []

    def on_message(c, u, msg):
        if not first:
            first.append(time.monotonic())
        got[0] += 1
        if got[0] >= n:
            done.set()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bare-%d" % os.getpid())
    c.on_message = on_message
    c.on_subscribe = lambda *a: ready.set()
    c.connect("127.0.0.1", port)
    c.subscribe(prefix + "/+/events", 1)
    c.loop_start()
    ready.wait(10)
    print("ready", flush=True)
    done.wait(300)
    print(json.dumps({"got": got[0], "t_last": time.monotonic()}), flush=True)
    c.disconnect()
    c.loop_stop()


def _bare_rate(port, prefix, secrets, n):
    proc = subprocess.Popen([sys.executable, "-m", "monitor.bench", "--bare", str(port),
                             prefix, str(n)], cwd=paths.ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    hubs = Hubs(port, prefix, secrets)
    t0 = time.monotonic()
    names = sorted(secrets)
    for i in range(n):
        hubs.signal(names[i % len(names)], "E602" if i % 2 else "R401", zone=0)
    result = json.loads(proc.stdout.readline())
    proc.wait(10)
    hubs.close()
    # CLOCK_MONOTONIC is system-wide on Linux, so the two processes' readings compare.
    return result["got"] / (result["t_last"] - t0)


def _service_rate(work, port, prefix, secrets, n, workers):
    db = os.path.join(work, "%s.db" % prefix.replace("/", "_"))
    _accounts(db, secrets)
    args = ["--share", "bench"] if workers > 1 else []
    procs = [_start_service(db, port, prefix, *args) for _ in range(workers)]
    hubs = Hubs(port, prefix, secrets)
    try:
        took = _flood(hubs, secrets, n)
    finally:
        hubs.close()
        _stop(procs)
    store = Store(db)
    stored = store.one("SELECT COUNT(*) AS n FROM signals")["n"]
    store.close()
    if stored != n:
        raise RuntimeError("stored %d of %d" % (stored, n))
    return n / took


def _latency(work, port, prefix, secrets, n, pace_s=0.01):
    db = os.path.join(work, "latency.db")
    _accounts(db, secrets)
    proc = _start_service(db, port, prefix, "--jsonl", "--ring-timeout", "3600")
    seen = {}
    reader_done = threading.Event()

    def read():
        for raw in proc.stdout:
            line = json.loads(raw)
            if line["step"] in ("open", "call"):
                key = (line["hub"], line["step"])
                seen.setdefault(key, time.monotonic())
            if len([k for k in seen if k[1] == "call"]) >= n:
                break
        reader_done.set()
    threading.Thread(target=read, daemon=True).start()
    hubs = Hubs(port, prefix, secrets)
    sent = {}
    names = sorted(secrets)[:n]
    for hub in names:
        sent[hub] = time.monotonic()
        hubs.signal(hub, "E130", zone=1)
        time.sleep(pace_s)
    reader_done.wait(60)
    hubs.close()
    _stop([proc])
    out = {}
    for step in ("open", "call"):
        ms = sorted((seen[(h, step)] - sent[h]) * 1000 for h in names if (h, step) in seen)
        if len(ms) < len(names):
            raise RuntimeError("only %d of %d alarms reached %s" % (len(ms), len(names), step))
        out[step] = (ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))])
    return out


def main():
    work = tempfile.mkdtemp(prefix="monitor-bench-")
    broker = Broker(os.path.join(work, "mosquitto")).start()
    secrets = {"hub-%03d" % i: os.urandom(32) for i in range(N_HUBS)}
    lat_secrets = {"alarm-%03d" % i: os.urandom(32) for i in range(N_ALARMS)}
    try:
        bare = _bare_rate(broker.port, "bench/bare", secrets, N_SIGNALS)
        one = _service_rate(work, broker.port, "bench/one", secrets, N_SIGNALS, 1)
        two = _service_rate(work, broker.port, "bench/two", secrets, N_SIGNALS, 2)
        lat = _latency(work, broker.port, "bench/lat", lat_secrets, N_ALARMS)
    finally:
        broker.stop()
    print("monitoring endpoint (%d signed signals from %d hubs, SQLite WAL synchronous=FULL, "
          "%d cores)" % (N_SIGNALS, N_HUBS, os.cpu_count()))
    print("  bare paho subscriber receives:     %7.0f signals/s  (baseline, does nothing)" % bare)
    print("  1 process, verified+stored+acked:  %7.0f signals/s  (%.0f%% of the baseline)"
          % (one, 100 * one / bare))
    print("  2 processes, shared subscription:  %7.0f signals/s  (speed-up %.2fx)"
          % (two, two / one))
    print("  alarm to case open  p50 %.1f ms  p99 %.1f ms  (%d alarms, one every 10 ms)"
          % (lat["open"] + (N_ALARMS,)))
    print("  alarm to first call p50 %.1f ms  p99 %.1f ms" % lat["call"])
    print(json.dumps({"bare_per_s": round(bare), "one_per_s": round(one), "two_per_s": round(two),
                      "speedup": round(two / one, 2), "open_p50_ms": round(lat["open"][0], 1),
                      "open_p99_ms": round(lat["open"][1], 1),
                      "call_p50_ms": round(lat["call"][0], 1),
                      "call_p99_ms": round(lat["call"][1], 1)}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--bare":
        bare_subscriber(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    sys.exit(main())
