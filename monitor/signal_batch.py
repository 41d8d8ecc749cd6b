"""A batch's routine signals (test reports, and what is only stored and
acked) stored at once on PostgreSQL: one statement per table for the whole
batch, not several round trips per signal. Most of what hubs send is
routine, and each round trip is a wait on the server and CPU on both sides.

What it decides is exactly what Desk.signal decides for each of them, in
the same transaction (the hubs already held): a signal already stored is a
resend, a seq used again with another body is a seq reset, a test report
moves the hub's test timer and closes its overdue-test trouble case.
Anything else (an alarm, a cancel, two signals of a batch under one seq) is
left to Desk.signal, one by one."""
import json

from monitor import case_store, plans
from monitor.plan_run import seq_reused

ROUTINE = (plans.TEST_REPORT, plans.STORE)


def routine(hub, body):
    """Can this verified signal go in the bulk?"""
    return plans.classify(body["signal"]).kind in ROUTINE


def _epoch(body):
    epoch = body.get("epoch")
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None


def store(desk, signals):
    """signals: {key: (hub, body)}, routine and each under its own (hub, seq).
    Stores and acts on them inside the caller's transaction; {key: True when
    stored, False when it was a resend}."""
    db = desk.store
    t = desk.now()
    found = {}
    for key, (hub, body) in signals.items():
        sig = body["signal"]
        found[(hub, _epoch(body), sig["seq"], str(sig["code"]))] = key
    outcome = {}
    # Known by its identity: only a signal with an epoch has one.
    with_epoch = [k for k in found if k[1] is not None]
    for row in case_store.signals_by_codes(db, with_epoch) if with_epoch else ():
        key = found.pop((row["hub"], row["epoch"], row["seq"], row["code"]))
        desk._came_by(row, "mqtt")
        outcome[key] = False
    if not found:
        return outcome
    texts = {key: json.dumps(signals[key][1], sort_keys=True) for key in found.values()}
    by_seq = {(hub, seq): key for (hub, _epoch, seq, _code), key in found.items()}
    stored = case_store.new_signals(
        db, [(hub, seq, epoch, code, texts[key]) for (hub, epoch, seq, code), key
             in found.items()], t, "mqtt")
    new = {(r["hub"], r["seq"]): r["id"] for r in stored}
    # Its (hub, seq, body) was taken: the same body again.
    again = [(hub, seq, texts[key]) for (hub, seq), key in by_seq.items()
             if (hub, seq) not in new]
    for row in case_store.signals_by_bodies(db, again) if again else ():
        desk._came_by(row, "mqtt")
    for hub, seq, _text in again:
        outcome[by_seq[(hub, seq)]] = False
    if not new:
        return outcome
    others = {}
    for row in case_store.same_seqs_others(db, list(new), list(new.values())):
        others.setdefault((row["hub"], row["seq"]), []).append(row)
    tests = set()
    for (hub, seq), signal_id in new.items():
        key = by_seq[(hub, seq)]
        body = signals[key][1]
        sig = body["signal"]
        if seq_reused(others.get((hub, seq), ()), sig, seq, _epoch(body)):
            desk._seq_reset(hub, seq, _epoch(body), sig.get("code"))
        if plans.classify(sig).kind == plans.TEST_REPORT:
            tests.add(hub)
        outcome[key] = True
    if tests:
        _test_reports(desk, sorted(tests), t)
    return outcome


def _test_reports(desk, hubs, t):
    """Desk.test_report for each hub, at once."""
    db = desk.store
    intervals = case_store.tests_received(db, hubs, t)
    dues = {hub: t + s * 1000 + desk.test_grace_ms for hub, s in intervals.items()}
    moved = case_store.move_test_timers(db, dues)
    for hub in sorted(set(dues) - moved):
        desk.timer(dues[hub], "test_due", hub=hub)
    for case in case_store.open_troubles(db, hubs, "test_overdue"):
        desk.close_trouble(case, "test_received")
