"""`make bench`'s connection figures (tools/bench_broker_connections.py) on a
tiny run: every simulated hub connects (over TLS with its own login, as
installed, and plain), is granted the QoS it asked for on both topics (the run
raises otherwise), and is counted from the brokers' own processes; a QoS 1
subscription is the dear one on NATS, and a login is not."""
from tools import bench_broker_connections as bench


def test_the_connection_bench_measures_each_broker(tmp_path):
    # mosquitto spends 0.1 ms and 2 KB a hub: 500 of them are several clock
    # ticks and memory pages, so neither figure can round to nothing.
    fig = bench.measure(n_nats=60, n_nats_qos1=20, n_mosquitto=500, n_nats_tls=20, idle_s=2.0,
                        keepalive_s=2, baseline_s=1.0, work=str(tmp_path))
    for name, n in (("nats_tls", 20), ("nats_qos0", 60), ("nats_qos1", 20), ("mosquitto", 500)):
        f = fig[name]
        assert f["hubs"] == n and 0 < f["per_s"] < 1e6, fig
        assert f["setup_cpu_ms"] > 0 and f["kb_per_hub"] > 0, fig
        assert 0 < f["suback_p50_ms"] <= f["suback_p99_ms"], fig
    # Each QoS 1 SUBSCRIBE makes a replicated JetStream consumer: about ten
    # times the CPU of a QoS 0 session here; three times is the floor checked.
    assert fig["nats_qos1"]["setup_cpu_ms"] > 3 * fig["nats_qos0"]["setup_cpu_ms"], fig
    assert fig["nats_qos1"]["kb_per_hub"] > 3 * fig["nats_qos0"]["kb_per_hub"], fig
    # A node checks the hub's bcrypt hash on each CONNECT: 140 ms of CPU at
    # the cost it once was (11), 5 ms at broker_cluster.BCRYPT_COST with TLS.
    assert fig["nats_tls"]["setup_cpu_ms"] < 50, fig
