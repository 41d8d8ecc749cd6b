"""The engine bench (tools/bench_engine.py) measures a real engine that
stores and acks what it is given: every signal stored, one ack per hub
per batch of the size asked."""
from tools import bench_engine
from tools.bench_monitor import _accounts


def test_the_engine_bench_stores_and_acks_every_signal(db):
    secrets = bench_engine.secrets_for(10)
    _accounts(db, secrets)
    us, acks = bench_engine.cost(db, secrets, 320, batch=16)
    assert bench_engine.stored(db) == bench_engine.WARM + 320
    # 20 batches of 16 signals from 10 hubs (round-robin): 10 acks each.
    assert acks == 20 * 10
    assert 0 < us < 100_000
