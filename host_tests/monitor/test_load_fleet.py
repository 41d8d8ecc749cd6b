"""The bench's load generator in several processes (tools/load_fleet.py) at
small scale: real mosquitto, the service in-process, the real store on each
backend. Every signal of every process is acked and stored once."""
import os

from monitor.store import Store
from tools.bench_monitor import _many_accounts
from tools.hubs import percentiles
from tools.load_fleet import LoadFleet

HUBS = 2000


def test_a_load_step_over_two_processes_is_acked_and_stored_in_full(db, monitor, broker, prefix):
    secrets = {"h%06d" % i: os.urandom(32) for i in range(HUBS + 500)}
    _many_accounts(db, secrets)
    monitor()
    fleet = LoadFleet(broker.port, prefix, secrets, procs=2)
    try:
        lat, unacked, asked, achieved, each = fleet.step(HUBS, 2.0)
    finally:
        fleet.close()
    sent = sum(e["sent"] for e in each)
    assert unacked == 0 and len(lat) == sent, (unacked, len(lat), sent)
    # Both processes carried their share of the step's rate (~35 signals/s).
    assert all(e["sent"] >= 20 and e["cpu_s"] > 0 for e in each), each
    assert abs(asked - (HUBS / 60 + HUBS / 3600)) < 0.01, asked
    assert achieved >= 0.9 * asked, (achieved, asked)
    p99, p50 = percentiles(lat, unacked)
    assert p50 <= p99 < 5.0, (p50, p99)
    store = Store(db)
    try:
        rows = store.q("SELECT hub, seq FROM signals")
    finally:
        store.close()
    assert len(rows) == sent == len({(r["hub"], r["seq"]) for r in rows})
    # The step's hubs only (the first HUBS names), from both processes' shares.
    hubs = {r["hub"] for r in rows}
    assert max(hubs) < "h%06d" % HUBS, max(hubs)
    assert {int(h[1:]) % 2 for h in hubs} == {0, 1}


def test_unacked_signals_count_as_infinite():
    assert percentiles([0.1] * 98, 2) == (float("inf"), 0.1)
    assert percentiles([0.1] * 99 + [0.3], 0) == (0.3, 0.1)
