"""Two worker processes on one shared subscription over one store."""
import json
import os
import time

from desk_helpers import add_account, query

HUBS = 100
PER_HUB = 10


def test_two_workers_split_1000_signals_from_100_hubs_none_handled_twice(db, service, hubs):
    secrets = {"hub-%03d" % i: os.urandom(32) for i in range(HUBS)}
    for hub, secret in secrets.items():
        add_account(db, hub, secret=secret, contacts=1)
    workers = [service("--share", "desk", "--ring-timeout", "0.5", "--redeliver-after", "10")
               for _ in range(2)]
    h = hubs(secrets)
    t0 = time.monotonic()
    for n in range(PER_HUB):
        for hub in secrets:
            # One burglary per hub among routine signals: 100 cases to run as well.
            h.signal(hub, "E130" if n == 3 else ("E602" if n % 2 else "R401"), zone=1)
    assert h.wait_acked(timeout=60, resend_s=5), len(h.acked)
    took = time.monotonic() - t0
    assert len(query(db, "SELECT * FROM signals")) == HUBS * PER_HUB
    deadline = time.monotonic() + 30
    while len(query(db, "SELECT * FROM dispatches")) < HUBS and time.monotonic() < deadline:
        time.sleep(0.1)
    cases = query(db, "SELECT hub, status FROM cases WHERE plan = 'burglar'")
    assert len(cases) == HUBS and {c["hub"] for c in cases} == set(secrets)
    assert all(c["status"] == "dispatched" for c in cases)
    assert len(query(db, "SELECT * FROM dispatches")) == HUBS
    steps = query(db, "SELECT case_id, step, COUNT(*) AS n FROM timeline "
                      "GROUP BY case_id, step HAVING COUNT(*) > 1")
    assert steps == [], steps                 # no step of any case happened twice
    for w in workers:
        w.stop()
    handled = []
    for w in workers:
        line = [e for e in w.err if "this process handled" in e][-1]
        handled.append(json.loads(line.split("handled ", 1)[1]))
    stored = [x.get("stored", 0) for x in handled]
    assert sum(stored) == HUBS * PER_HUB and min(stored) > 0, handled
    # Both emitted timeline lines, and no line was emitted by both.
    ids = [{l["id"] for l in w.lines.all} for w in workers]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    print("\n1000 signals from 100 hubs stored and acked by 2 workers in %.2f s; split %s"
          % (took, stored))
