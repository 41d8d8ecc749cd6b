"""`make bench`'s broker figures (tools/bench_broker_cluster.py) on a tiny run: a
real 3-node NATS cluster and a real mosquitto each take and deliver every
signal, the service's workers ack every one, and the CPU is read from the
brokers' own processes (three nodes, one mosquitto)."""
from tools import bench_broker_cluster

N = 200


def test_the_broker_bench_measures_a_nats_cluster_beside_mosquitto(tmp_path):
    fig = bench_broker_cluster.measure(N, per_node=1, n_service=60, work=str(tmp_path))
    nats, mosq = fig["nats"], fig["mosquitto"]
    for broker, nodes in ((nats, 3), (mosq, 1)):
        # Rates from timestamps of this run: every signal PUBACKed and delivered
        # (measure raises otherwise), in a finite time, and well under a second each.
        assert 0 < broker["taken_per_s"] < 1e6 and 0 < broker["delivered_per_s"] < 1e6, fig
        assert len(broker["process_cpu_s_per_1000"]) == nodes, fig
        assert abs(sum(broker["process_cpu_s_per_1000"]) - broker["cpu_s_per_1000"]) < 1e-9
        assert 0 < broker["service"]["per_s"] < 1e6, fig
        assert broker["service"]["cpu_s_per_1000"] > 0, fig
    # A replicated JetStream store costs CPU: three idle nodes would use under a
    # clock tick in the time the 200 signals take.
    assert nats["cpu_s_per_1000"] > 0, fig
