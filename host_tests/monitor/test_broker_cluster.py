"""The hubs on a broker cluster (monitor/broker_cluster.py): three real
nats-server nodes on this machine, hubs spread over them, two workers sharing
the events as a NATS queue group, and one node killed with SIGKILL mid-burst.
Its hubs move to another node and resend what was not acked; every signal is
stored once, each intrusion opens one case, nothing is dispatched twice."""
import collections
import os
import time

import pytest

from desk_helpers import add_account, query
from waiting import until

from monitor.receiver import Receiver, Settings
from postgres_server import store_param
from tools.hubs import Hubs
from tools.nats_cluster import Cluster

# After the kill, what the surviving nodes need before they take the dead
# node's hubs again is NATS's, not ours: a new leader for each stream and
# consumer the dead node led (raft elections wait 4-9 s in nats-server 2.9,
# not configurable), and meanwhile a node's JetStream requests for a session
# (load it, store a QoS 1 message) time out after 4 s each and the client
# dials again. Measured on this loaded
# 2-core machine: each node's hubs all acked 5-47 s after the burst began
# (docs/monitoring.md, "Broker cluster"); the wait allows 70 s per node.

HUBS = 300
PER_HUB = 4
RING_S = 0.5


@pytest.fixture(params=["postgresql"])
def db(request, tmp_path):
    """PostgreSQL only: brokers on several machines mean workers on several
    machines, which only PostgreSQL serves (the store's part is tested on both
    backends in test_monitor_workers.py)."""
    return store_param(request, tmp_path)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path / "nats")).start()
    yield c
    c.stop()


def test_a_broker_node_killed_mid_burst_loses_nothing_and_doubles_nothing(cluster, db, prefix):
    secrets = {"hub-%03d" % i: os.urandom(32) for i in range(HUBS)}
    for hub, secret in secrets.items():
        add_account(db, hub, secret=secret, contacts=1, password=None)
    workers = []
    for i in range(2):
        # Both told of all three nodes (the client picks one at random).
        urls = cluster.nats_urls[i:] + cluster.nats_urls[:i]
        rx = Receiver(Settings(db=db, prefix=prefix, share="desk", ring_s=RING_S,
                               redeliver_s=1, nats=tuple(urls)))
        workers.append(rx.start(timeout=20))
    # A third of the hubs on each node; each fleet knows every node, its own first.
    names = sorted(secrets)
    ports = cluster.mqtt_ports
    fleets = []
    try:
        for n in range(3):
            mine = {h: secrets[h] for h in names[n::3]}
            order = [("127.0.0.1", p) for p in ports[n:] + ports[:n]]
            # One QoS 1 publish in flight per hub, as a hub's umqtt waits for
            # each PUBACK: a node stores every one in JetStream first.
            fleets.append(Hubs(ports[n], prefix, mine, nodes=order, inflight=len(mine)))

        def burst(rounds):
            for r in rounds:
                for k in range(len(names) // 3):
                    for f in fleets:
                        hub = f.names[k]
                        if r == 1:
                            # Two zones back to back: the queue group may hand them
                            # to both workers at once; still one case.
                            f.signal(hub, "E130", zone=1)
                            f.signal(hub, "E130", zone=2)
                        else:
                            f.signal(hub, "E602" if r % 2 else "R401", zone=1)
        total = HUBS * (PER_HUB + 1)

        t0 = time.monotonic()
        burst(range(2))
        # Mid-burst: a node dies with signals of its hubs in flight and the rest
        # of the burst still to come (and with the workers connected to it, if any).
        cluster.kill(2)
        burst(range(2, PER_HUB))
        doomed = fleets[2]
        t_kill = time.monotonic() - t0
        took = []
        for f in fleets:
            assert f.wait_acked(timeout=70, resend_s=5), \
                (fleets.index(f), len(f.sent) - len(f.acked), f.c.is_connected(), f.node,
                 f.bad_acks, f.refused_subscriptions, collections.Counter(k[1] for k in f.sent if k not in f.acked),
                 [(rx.broker_connected, dict(rx.handled)) for rx in workers],
                 [l for l in cluster.log_text(fleets.index(f)).splitlines()
                  if "route" not in l][-12:])
            took.append(round(time.monotonic() - t0, 1))
        assert doomed.node != 0     # its hubs now talk to another node
        assert until(lambda: len(query(db, "SELECT case_id FROM dispatches")) >= HUBS,
                     timeout=30, every=0.2)

        signals = query(db, "SELECT hub, seq FROM signals")
        assert len(signals) == total and len({(s["hub"], s["seq"]) for s in signals}) == total
        assert query(db, "SELECT n FROM counters WHERE name = 'stored'") == [{"n": total}]
        cases = query(db, "SELECT id, hub, status FROM cases WHERE plan = 'burglar'")
        assert len(cases) == HUBS and {c["hub"] for c in cases} == set(secrets)
        assert all(c["status"] == "dispatched" for c in cases)
        twice = query(db, "SELECT case_id, step, COUNT(*) AS n FROM timeline "
                          "GROUP BY case_id, step HAVING COUNT(*) > 1")
        assert twice == [], twice
        steps = collections.Counter(r["step"] for r in query(db, "SELECT step FROM timeline"))
        assert steps["dispatch"] == steps["call"] == HUBS, steps
        # The queue group split the work: both workers stored signals.
        assert all(rx.handled.get("stored") for rx in workers), \
            [dict(rx.handled) for rx in workers]
        print("\n%d signals from %d hubs on 3 nodes, one killed %.1f s into the burst; "
              "each node's hubs all acked after %s s; workers: %s"
              % (total, HUBS, t_kill, took, [dict(rx.handled) for rx in workers]))
    finally:
        for f in fleets:
            f.close()
        for rx in workers:
            rx.stop()
