"""An area power cut at small scale: many hubs report AC loss at once (the
bench's 100,000 in 60 s, tools/bench_monitor.py, is this at full size). Real
mosquitto, the service in-process, the real store on each backend."""
import os
import time

from monitor import accounts
from monitor.store import Store
from tools.bench_monitor import AC_LOSS, power_cut_outcome

HUBS = 300


def test_an_area_power_cut_is_acked_once_per_hub_stored_once_and_opens_no_case(
        db, monitor, hubs):
    secrets = {"cut-%03d" % i: os.urandom(32) for i in range(HUBS)}
    store = Store(db)       # one connection for them all: a Store each took seconds
    for hub, secret in secrets.items():
        accounts.add(store, hub, secret, [{"name": "Owner", "phone": "+1 555 0100"}])
    store.close()
    rx, lines = monitor()
    h = hubs(secrets)
    t0 = time.monotonic()
    # Every hub at once, as fast as they go out: mains fails on the whole street.
    keys = [(hub, h.signal(hub, AC_LOSS, zone=0)) for hub in sorted(secrets)]
    assert h.wait_acked(keys, timeout=30), "%d of %d acked" % (len(h.acked), HUBS)
    took = time.monotonic() - t0
    # Late duplicates would show here: give any that were coming a moment.
    time.sleep(0.5)
    with h.lock:
        twice = {k: n for k, n in h.acks_of.items() if k in set(keys) and n != 1}
    assert not twice and h.bad_acks == 0, (twice, h.bad_acks)
    store = Store(db)
    try:
        outcome = power_cut_outcome(store, secrets)
        counters = store.counters()
    finally:
        store.close()
    # AC loss is a trouble signal: no plan of the four opens a case for it.
    assert outcome == {"stored": HUBS, "hubs_twice": 0, "cases": 0, "cases_twice": 0}, outcome
    assert counters.get("stored") == HUBS and not counters.get("duplicate"), counters
    assert not [l for l in lines.all if l.get("hub") in secrets], lines.steps()
    assert took < 30
