"""Benchmark of the monitoring endpoint: `python -m tools.bench_monitor` (part of
`make bench`).

On a private mosquitto, 100 simulated hubs (tools/hubs.py) publish signed
events as fast as the broker takes them. Reported, all from the same run, each service row beside a
bare subscriber's receive rate of the same stream measured just before it
(the ceiling: MQTT and the service's own paho client, monitor/mqtt_batched.py,
in one Python process doing nothing with the messages):
  - signals/s verified, stored (committed, on disk) and acked, on SQLite and on
    PostgreSQL (a private durable server), by one and by two worker processes;
  - CPU seconds the service's processes spent per 1,000 signals;
  - time from publishing an alarm to its case opening (and its first call), p50/p99;
  - how many hubs one machine holds, on each store: simulated hubs at one
    signal a minute plus hourly test reports, stepped up until the ack p99
    passes 1 s (Hubs.step, in GENERATOR_PROCS processes: tools/load_fleet.py),
    with the cores the service, the generator, the broker and the PostgreSQL
    server each took; PostgreSQL again with two service workers;
  - an area power cut, on each store: 100,000 hubs report AC loss once each
    within 60 s (Hubs.once_each); the time to the last ack (target 2 minutes),
    and that each was stored once and opened no case;
  - a 3-node NATS broker cluster's rate and CPU per signal beside one
    mosquitto's (tools/bench_broker_cluster.py), and what a hub's connection
    costs each (tools/bench_broker_connections.py)."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from monitor import accounts
from monitor.store import Store
from tools import bench_engine, children, paths
from tools.broker import Broker
from tools.hubs import ROUTINE_PER_HUB_S, TEST_PER_HUB_S, Hubs, percentiles
from tools.load_fleet import LoadFleet

N_HUBS = 100
N_SIGNALS = 5000
# The engine alone (tools/bench_engine.py): batches as under a steady load
# (a few thousand signals a second come about 10-20 a batch) and a backlog's.
ENGINE_BATCHES = (16, 256)
N_ALARMS = 300
# mosquitto keeps at most 1,000 QoS 1 messages queued per client and drops the
# rest (the hub resends 30 s later): a bench must measure the service, not that.
BROKER_CONF = "max_queued_messages 0\n"
LOAD_STEPS = (10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000, 130_000, 160_000,
              200_000)
LOAD_STEP_S = 8.0
LOAD_P99_S = 1.0
LOAD_WARM_S = 5.0
# The load steps' simulated hubs run in this many processes (tools/load_fleet.py):
# one process's GIL, not the service, capped the acks at 160,000 hubs.
GENERATOR_PROCS = 2
# PostgreSQL's load steps are run again with this many service workers: one
# worker's process is at its core's ceiling first.
LOAD_WORKERS_2 = 2
# An area power cut: this many hubs report AC loss within POWER_CUT_S; the
# last must be acked within POWER_CUT_ACK_S of the first report (issue 19).
POWER_CUT_HUBS = 100_000
POWER_CUT_S = 60.0
POWER_CUT_ACK_S = 120.0
AC_LOSS = "E301"        # Contact ID 301: AC loss


def _accounts(db, secrets):
    store = Store(db)
    for hub, secret in secrets.items():
        accounts.add(store, hub, secret, [{"name": "Owner", "phone": "+1 555 0100"}])
    store.close()


def _many_accounts(db, secrets):
    """Accounts for the load steps, in one transaction (accounts.add takes one
    each, with its fsync: minutes for 200,000 hubs)."""
    store = Store(db)
    now = int(time.time() * 1000)
    with store.tx() as tx:
        tx.executemany("INSERT INTO accounts (hub, secret, created_ms) VALUES (?, ?, ?)",
                       [(hub, secret, now) for hub, secret in secrets.items()])
        tx.executemany("INSERT INTO contacts (hub, position, name, phone) VALUES (?, 1, ?, ?)",
                       [(hub, "Owner", "+1 555 0100") for hub in secrets])
        # As in a running install, each hub's test report is already expected.
        tx.executemany("INSERT INTO timers (due_ms, kind, hub) VALUES (?, 'test_due', ?)",
                       [(now + 4200_000, hub) for hub in secrets])
    store.close()


def _start_workers(db, port, prefix, workers, share):
    """workers service processes; several take the events as one shared subscription."""
    args = ["--share", share] if workers > 1 else []
    return [_start_service(db, port, prefix, *args) for _ in range(workers)]


def _start_service(db, port, prefix, *args):
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--db", db, "--port",
                             str(port), "--prefix", prefix] + list(args), cwd=paths.ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "subscribed" in line:
            threading.Thread(target=proc.stderr.read, daemon=True).start()   # keep it drained
            return proc
    raise RuntimeError("service did not start")


def _stop(procs):
    children.end(procs)


def _stat(pid):
    """The fields of /proc/<pid>/stat after the command name (state first)."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def _cpu_s(procs):
    """User + system CPU seconds the processes (or pids) have used so far (Linux /proc)."""
    total = 0
    for p in procs:
        try:
            fields = _stat(getattr(p, "pid", p))
        except (FileNotFoundError, ProcessLookupError):
            continue        # a server process that has ended since it was listed
        total += int(fields[11]) + int(fields[12])      # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _server_pids(server):
    """The PostgreSQL server's processes: the postmaster and its children
    (the workers' backends, the WAL writer, ...), or () for SQLite."""
    if server is None:
        return ()
    with open(os.path.join(server.data, "postmaster.pid")) as f:
        master = int(f.readline())
    pids = [master]
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(_stat(int(name))[1]) == master:
                    pids.append(int(name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return pids


def bare_subscriber(port, prefix, n):
    """Subprocess body: receive n events with the service's paho client and do
    nothing else."""
    import paho.mqtt.client as mqtt

    from monitor import mqtt_batched, mqtt_nodelay
    got = [0]
    done = threading.Event()
    ready = threading.Event()
    first = []

    def on_message(c, u, msg):
        if not first:
            first.append(time.process_time())
        got[0] += 1
        if got[0] >= n:
            done.set()
    c = mqtt_batched.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bare-%d" % os.getpid())
    mqtt_nodelay.no_delay(c)
    c.on_message = on_message
    c.on_subscribe = lambda *a: ready.set()
    c.connect("127.0.0.1", port)
    c.subscribe(prefix + "/+/events", 1)
    c.loop_start()
    ready.wait(10)
    print("ready", flush=True)
    done.wait(300)
    print(json.dumps({"got": got[0], "t_last": time.monotonic(),
                      "cpu_s": time.process_time() - first[0]}), flush=True)
    c.disconnect()
    c.loop_stop()


def _bare_rate(port, prefix, secrets, n):
    proc = subprocess.Popen([sys.executable, "-m", "tools.bench_monitor", "--bare", str(port),
                             prefix, str(n)], cwd=paths.ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    hubs = Hubs(port, prefix, secrets, fast=True, inflight=0)
    t0 = time.monotonic()
    hubs.flood(n)
    result = json.loads(proc.stdout.readline())
    proc.wait(10)
    hubs.close()
    # CLOCK_MONOTONIC is system-wide on Linux, so the two processes' readings compare.
    return result["got"] / (result["t_last"] - t0), result["cpu_s"] * 1000 / result["got"]


def _service_rate(db, port, prefix, secrets, n, workers, server=None):
    """(signals/s stored and acked, CPU s of the workers per 1,000 signals,
    CPU s of the PostgreSQL server per 1,000 signals or None)."""
    _accounts(db, secrets)
    procs = _start_workers(db, port, prefix, workers, "bench")
    hubs = Hubs(port, prefix, secrets, fast=True, inflight=0)
    try:
        # Listed once the workers are connected: their backends are among them.
        pids = _server_pids(server)
        cpu0, server0 = _cpu_s(procs), _cpu_s(pids)
        took = hubs.took(hubs.flood(n), timeout=300)
        cpu, server_cpu = _cpu_s(procs) - cpu0, _cpu_s(pids) - server0
    finally:
        hubs.close()
        _stop(procs)
    if took is None:
        raise RuntimeError("not everything was acked")
    store = Store(db)
    stored = store.one("SELECT COUNT(*) AS n FROM signals")["n"]
    store.close()
    if stored != n:
        raise RuntimeError("stored %d of %d" % (stored, n))
    return n / took, cpu * 1000 / n, (server_cpu * 1000 / n if pids else None)


def _latency(db, port, prefix, secrets, n, pace_s=0.01):
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


def _load(db, port, prefix, broker, server=None, steps=LOAD_STEPS, step_s=LOAD_STEP_S,
          workers=1, generator_procs=GENERATOR_PROCS):
    """Step the number of hubs up until the ack p99 passes LOAD_P99_S.
    Returns [(hubs, signals/s asked, achieved, p50 s, p99 s, cores used by
    (the workers, the generator, the broker, the PostgreSQL server))]."""
    secrets = {"h%06d" % i: os.urandom(32) for i in range(steps[-1])}
    _many_accounts(db, secrets)
    procs = _start_workers(db, port, prefix, workers, "load")
    load = None
    rows = []
    try:
        load = LoadFleet(port, prefix, secrets, generator_procs)
        pids = _server_pids(server)
        # Not counted: the service's first pass over every account (test
        # timers) and a fresh PostgreSQL's first statistics come with the start.
        load.step(steps[0], LOAD_WARM_S)
        for n in steps:
            parts = (procs, [os.getpid()] + load.pids, [broker.proc], pids)
            cpu0, t0 = [_cpu_s(p) for p in parts], time.monotonic()
            lat, unacked, asked, achieved, _ = load.step(n, step_s)
            wall = time.monotonic() - t0
            cores = tuple((_cpu_s(p) - c) / wall for p, c in zip(parts, cpu0))
            p99, p50 = percentiles(lat, unacked)
            rows.append((n, asked, achieved, p50, p99, cores))
            print("  load step: %7d hubs, %6.0f signals/s asked (%6.0f sent): ack p50 %6.0f ms,"
                  " p99 %6.0f ms; cores: %s" % (n, asked, achieved, p50 * 1000, p99 * 1000,
                                               _cores(cores)), flush=True)
            if p99 > LOAD_P99_S or achieved < 0.95 * asked:
                break
    finally:
        if load is not None:
            load.close()
        _stop(procs)
    return rows


def power_cut_outcome(store, hubs):
    """What the store made of an area power cut, hubs having sent AC loss once
    each: {"stored": AC-loss signals stored, "hubs_twice": hubs with more than
    one stored, "cases": cases opened for those hubs, "cases_twice": hubs with
    more than one case}. The plans open no case for a trouble signal
    (response-plans.md has four plans, all for alarms): stored and acked only."""
    hubs = list(hubs)
    rows = store.q("SELECT hub, COUNT(*) AS n FROM signals WHERE code = ? GROUP BY hub", AC_LOSS)
    mine = set(hubs)
    per_hub = [r["n"] for r in rows if r["hub"] in mine]
    cases = [r["n"] for r in store.q("SELECT hub, COUNT(*) AS n FROM cases GROUP BY hub")
             if r["hub"] in mine]
    return {"stored": sum(per_hub), "hubs_twice": sum(1 for n in per_hub if n > 1),
            "cases": sum(cases), "cases_twice": sum(1 for n in cases if n > 1)}


def _power_cut(db, port, prefix, broker, server=None, n=POWER_CUT_HUBS, spread_s=POWER_CUT_S,
               workers=1):
    """n hubs each report AC loss once, in a random order over spread_s, as
    after a regional power cut; each resends what is unacked every 30 s, as the
    hub's link does (resend_ms). Returns a dict: seconds from the first report
    to the last ack, ack p50/p99, resends, the store's outcome, cores used."""
    secrets = {"p%06d" % i: os.urandom(32) for i in range(n)}
    _many_accounts(db, secrets)
    procs = _start_workers(db, port, prefix, workers, "cut")
    hubs = Hubs(port, prefix, secrets, fast=True, inflight=0)
    try:
        pids = _server_pids(server)
        parts = (procs, [os.getpid()], [broker.proc], pids)
        cpu0, t0 = [_cpu_s(p) for p in parts], time.monotonic()
        keys, sent_at = hubs.once_each(AC_LOSS, spread_s, zone=0)
        resends = 0
        deadline = t0 + 2 * POWER_CUT_ACK_S
        while not hubs.wait_acked(keys, timeout=max(0.0, min(30.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                break
            resends += hubs.resend_unacked()
        wall = time.monotonic() - t0
        cores = tuple((_cpu_s(p) - c) / wall for p, c in zip(parts, cpu0))
        with hubs.lock:
            acked = [hubs.acked[k] for k in keys if k in hubs.acked]
            first = min(hubs.sent_at[k] for k in keys)
        p99, p50 = hubs.p99(keys)
    finally:
        hubs.close()
        _stop(procs)
    store = Store(db)
    outcome = power_cut_outcome(store, secrets)
    store.close()
    return dict(outcome, hubs=n, acked=len(acked), sent_s=sent_at - first,
                last_ack_s=(max(acked) - first) if len(acked) == n else None,
                p50_s=p50, p99_s=p99, resends=resends, cores=cores)


def _cores(cores):
    words = "%.2f service, %.2f hubs, %.2f broker" % cores[:3]
    return words + (", %.2f PostgreSQL" % cores[3] if cores[3] else "")


class Backends:
    """A case store per run: a SQLite file in the work dir, or a database on a
    private PostgreSQL server that syncs its commits as an install does."""

    def __init__(self, work):
        self.work = work
        self.pg = None

    def db(self, backend, name):
        if backend == "sqlite":
            return os.path.join(self.work, name + ".db")
        if self.pg is None:
            from tools.postgres import PostgresServer
            self.pg = PostgresServer(durable=True).start()
        return self.pg.create_database(name)

    def close(self):
        if self.pg is not None:
            self.pg.remove()


def _engine_figures(backend, backends, secrets, figures):
    """The engine's own CPU per signal, no MQTT (tools/bench_engine.py), at a
    steady load's small batches and at a backlog's full ones."""
    each = []
    for batch in ENGINE_BATCHES:
        db = backends.db(backend, "%s_engine_%d" % (backend, batch))
        _accounts(db, secrets)
        us, acks = bench_engine.cost(db, secrets, N_SIGNALS, batch)
        if bench_engine.stored(db) != bench_engine.WARM + N_SIGNALS or not acks:
            raise RuntimeError("the engine bench did not store and ack every signal")
        figures["%s_engine_us_batch_%d" % (backend, batch)] = round(us, 1)
        each.append("%.0f µs in batches of %d" % (us, batch))
    print("  %-10s the engine alone (no MQTT), CPU per routine signal: %s"
          % (backend, "; ".join(each)), flush=True)


def _fmt(rate, bare, cpu, bare_cpu):
    return ("%5.0f signals/s = %3.0f%% of a bare subscriber's %5.0f/s;  CPU s per 1,000: %.2f"
            " (bare %.2f)" % (rate, 100 * rate / bare, bare, cpu, bare_cpu))


def _load_figures(backend, backends, broker, figures, workers=1):
    print("  hubs one machine holds (%s, %d worker%s; each hub 1 signal/min + an hourly"
          " test report; steps of %.0f s until the ack p99 > %.0f s; the generator (%d"
          " processes), the broker and the service share the machine):"
          % (backend, workers, "" if workers == 1 else "s", LOAD_STEP_S, LOAD_P99_S,
             GENERATOR_PROCS), flush=True)
    name = backend if workers == 1 else "%s_%dw" % (backend, workers)
    db = backends.db(backend, "load" if workers == 1 else "load_%dw" % workers)
    rows = _load(db, broker.port, "bench/load_" + name, broker,
                 backends.pg if backend == "postgresql" else None, workers=workers)
    held = [r for r in rows if r[4] <= LOAD_P99_S and r[2] >= 0.95 * r[1]]
    figures[name + "_hubs_held"] = held[-1][0] if held else 0
    figures[name + "_load_steps"] = [
        [r[0], round(r[1]), round(r[3] * 1000), round(r[4] * 1000)] + [round(c, 2) for c in r[5]]
        for r in rows]
    per_hub = 1 / ROUTINE_PER_HUB_S + 1 / TEST_PER_HUB_S
    print("  %-10s hubs held with ack p99 <= %.0f s: %d%s; a bare subscriber's %d/s is %d hubs'"
          " signals" % (name, LOAD_P99_S, figures[name + "_hubs_held"],
                        "" if len(held) < len(rows) else " (the largest step tried)",
                        figures["bare_per_s"], figures["bare_per_s"] / per_hub), flush=True)


def _power_cut_figures(backend, backends, broker, figures):
    cut = _power_cut(backends.db(backend, "power_cut"), broker.port, "bench/cut_" + backend,
                     broker, backends.pg if backend == "postgresql" else None)
    last = cut["last_ack_s"]
    figures[backend + "_power_cut"] = {
        "hubs": cut["hubs"], "acked": cut["acked"], "sent_s": round(cut["sent_s"], 1),
        "last_ack_s": round(last, 1) if last is not None else None,
        "p50_ms": round(cut["p50_s"] * 1000), "p99_ms": round(cut["p99_s"] * 1000),
        "resends": cut["resends"], "stored": cut["stored"], "hubs_twice": cut["hubs_twice"],
        "cases": cut["cases"], "cores": [round(c, 2) for c in cut["cores"]]}
    print("  %-10s area power cut: %d hubs' AC loss (%s) over %.0f s (%.0f/s; bare subscriber"
          " %d/s): %s; ack p50 %.0f ms, p99 %.0f ms; %d resent; %d stored (%d hubs twice), %d"
          " cases; cores: %s" % (
              backend, cut["hubs"], AC_LOSS, cut["sent_s"], cut["hubs"] / cut["sent_s"],
              figures["bare_per_s"],
              "last acked %.1f s after the first report (target %.0f s)"
              % (last, POWER_CUT_ACK_S) if last is not None
              else "only %d acked in %.0f s" % (cut["acked"], 2 * POWER_CUT_ACK_S),
              cut["p50_s"] * 1000, cut["p99_s"] * 1000, cut["resends"], cut["stored"],
              cut["hubs_twice"], cut["cases"], _cores(cut["cores"])), flush=True)


def _broker_cluster_figures(figures):
    """A NATS cluster's rate beside mosquitto's (tools/bench_broker_cluster.py);
    a machine that cannot run one still gets the figures above."""
    from tools import bench_broker_cluster
    try:
        figures["broker_cluster"] = bench_broker_cluster.main()
    except (RuntimeError, OSError) as e:
        figures["broker_cluster"] = {"error": str(e)}
        print("  broker cluster: not measured: %s" % e, flush=True)


def _broker_connections_figures(figures):
    """What a hub's connection costs each broker (tools/bench_broker_connections.py)."""
    from tools import bench_broker_connections
    try:
        figures["broker_connections"] = bench_broker_connections.main()
    except (RuntimeError, OSError) as e:
        figures["broker_connections"] = {"error": str(e)}
        print("  broker connections: not measured: %s" % e, flush=True)


def main(load=True, rates=True, backends_run=("sqlite", "postgresql"), power_cut=True,
         cluster=True):
    work = tempfile.mkdtemp(prefix="monitor-bench-")
    broker = Broker(os.path.join(work, "mosquitto"), extra=BROKER_CONF).start()
    backends = Backends(work)
    secrets = {"hub-%03d" % i: os.urandom(32) for i in range(N_HUBS)}
    lat_secrets = {"alarm-%03d" % i: os.urandom(32) for i in range(N_ALARMS)}
    figures = {}
    print("monitoring endpoint (%d signed signals from %d hubs, each committed before its ack:"
          " SQLite WAL synchronous=FULL, PostgreSQL fsync on; %d cores)"
          % (N_SIGNALS, N_HUBS, os.cpu_count()), flush=True)
    try:
        for backend in backends_run if rates else ():
            for workers in (1, 2):
                name = "%s_%d" % (backend, workers)
                bare, bare_cpu = _bare_rate(broker.port, "bench/bare_" + name, secrets,
                                            N_SIGNALS)
                db = backends.db(backend, name)
                rate, cpu, server_cpu = _service_rate(db, broker.port, "bench/" + name, secrets,
                                                      N_SIGNALS, workers, backends.pg
                                                      if backend == "postgresql" else None)
                figures.setdefault("bare_per_s", round(bare))
                figures.setdefault("bare_cpu_s_per_1000", round(bare_cpu, 2))
                figures[name] = {"per_s": round(rate), "bare_per_s": round(bare),
                                 "cpu_s_per_1000": round(cpu, 2),
                                 "bare_cpu_s_per_1000": round(bare_cpu, 2)}
                if server_cpu is not None:
                    figures[name]["server_cpu_s_per_1000"] = round(server_cpu, 2)
                print("  %-10s %d worker%s: %s%s" % (
                    backend, workers, " " if workers == 1 else "s",
                    _fmt(rate, bare, cpu, bare_cpu),
                    "; PostgreSQL server %.2f" % server_cpu if server_cpu is not None else ""),
                    flush=True)
            _engine_figures(backend, backends, secrets, figures)
            lat = _latency(backends.db(backend, backend + "_lat"), broker.port,
                           "bench/lat_" + backend, lat_secrets, N_ALARMS)
            figures[backend + "_open_ms"] = [round(x, 1) for x in lat["open"]]
            figures[backend + "_call_ms"] = [round(x, 1) for x in lat["call"]]
            print("  %-10s alarm -> case open p50 %.1f ms, p99 %.1f ms; -> first call p50 %.1f"
                  " ms, p99 %.1f ms (%d alarms, one every 10 ms)"
                  % ((backend,) + lat["open"] + lat["call"] + (N_ALARMS,)), flush=True)
        if (load or power_cut) and "bare_per_s" not in figures:
            # The baseline the load and the power cut are read against, from this run.
            bare, bare_cpu = _bare_rate(broker.port, "bench/bare_load", secrets, N_SIGNALS)
            figures["bare_per_s"], figures["bare_cpu_s_per_1000"] = round(bare), round(bare_cpu, 2)
            print("  bare subscriber (the baseline below): %.0f signals/s, %.2f CPU s per 1,000"
                  % (bare, bare_cpu), flush=True)
        for backend in backends_run if load else ():
            _load_figures(backend, backends, broker, figures)
            if backend == "postgresql":
                _load_figures(backend, backends, broker, figures, workers=LOAD_WORKERS_2)
        for backend in backends_run if power_cut else ():
            _power_cut_figures(backend, backends, broker, figures)
    finally:
        backends.close()
        broker.stop()
    if cluster:
        _broker_cluster_figures(figures)
        _broker_connections_figures(figures)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--bare":
        bare_subscriber(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    only = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--backend=")]
    if only and only[0] not in ("sqlite", "postgresql"):
        sys.exit("--backend=sqlite or --backend=postgresql")
    if "--cluster-only" in sys.argv:
        sys.exit(main(load=False, rates=False, power_cut=False))
    sys.exit(main(load="--no-load" not in sys.argv and "--power-cut-only" not in sys.argv,
                  rates="--load-only" not in sys.argv and "--power-cut-only" not in sys.argv,
                  power_cut="--no-load" not in sys.argv,
                  backends_run=only or ("sqlite", "postgresql"),
                  cluster="--no-cluster" not in sys.argv))
