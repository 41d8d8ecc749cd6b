"""A batch's routine signals (test reports, and what is only stored and
acked) stored at once: on PostgreSQL one statement for the whole batch's
signals and one for its test reports, not several round trips per signal.
Most of what hubs send is routine, and each round trip is a wait on the
server and CPU on both sides (about 0.1 ms of the worker's, measured). On
SQLite, where a statement is a call into the process, the same work goes
a signal at a time (case_store), but without each signal's way through
the plans (Desk.signal).

What it decides is exactly what Desk.signal decides for each of them, in
the same transaction (the hubs already held): a signal already stored is a
resend, a seq used again with another body is a seq reset, a test report
moves the hub's test timer and closes its overdue-test trouble case.
Anything else (an alarm, a cancel, two signals of a batch under one seq) is
left to Desk.signal, one by one."""

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
    by_seq = {(hub, seq): key for (hub, _epoch, seq, _code), key in found.items()}
    new, before = {}, {}
    for row in case_store.store_signals(
            db, [(hub, seq, epoch, code, signals[key][1]) for (hub, epoch, seq, code), key
                 in found.items()], t, "mqtt"):
        if row["new"]:
            new[(row["hub"], row["seq"])] = row["id"]
        else:
            before.setdefault((row["hub"], row["seq"]), []).append(row)
    outcome = {}
    for hub_seq, rows in before.items():
        if hub_seq in new:
            continue
        # Not stored: the same signal again, known by its identity (first, as
        # Desk.signal looks) or by its body.
        known = [r for r in rows if r["known"]] or [r for r in rows if r["same"]]
        if known:
            desk._came_by(known[0], "mqtt")
        outcome[by_seq[hub_seq]] = False
    if not new:
        return outcome
    tests = set()
    for (hub, seq), signal_id in new.items():
        key = by_seq[(hub, seq)]
        body = signals[key][1]
        sig = body["signal"]
        if seq_reused(before.get((hub, seq), ()), sig, seq, _epoch(body)):
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
    got = case_store.tests_received(db, hubs, t, desk.test_grace_ms)
    for hub in sorted(hub for hub, (_due, moved, _overdue) in got.items() if not moved):
        desk.timer(got[hub][0], "test_due", hub=hub)
    overdue = sorted(hub for hub, (_due, _moved, overdue) in got.items() if overdue)
    for case in case_store.open_troubles(db, overdue, "test_overdue") if overdue else ():
        desk.close_trouble(case, "test_received")
