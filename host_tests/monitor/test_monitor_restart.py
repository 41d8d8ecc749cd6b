"""kill -9 the service at several points of a case: after a restart the case
ends the same way, nothing is dispatched twice and the timers resume.

The service runs as `python -m tools.sim.monitor run` subprocesses; --fault
makes it SIGKILL itself at an exact point (before or after a commit, after a
line went out)."""
import time

from desk_helpers import PASSWORD, add_account, query
from waiting import until


def _dispatches(db):
    return query(db, "SELECT * FROM dispatches")


def _final(db, case_id, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = query(db, "SELECT status, end_reason FROM cases WHERE id = ?", case_id)[0]
        if row["status"] != "open":
            return row["status"], row["end_reason"]
        time.sleep(0.05)
    raise AssertionError("case %s still open" % case_id)


def test_killed_while_ringing_the_ring_timer_resumes(db, service, hubs):
    add_account(db)
    svc = service("--ring-timeout", "1.5")
    h = hubs()
    h.signal("hub-1", "E130", zone=1)
    call = svc.lines.wait(step="call")
    svc.kill9()
    timer = query(db, "SELECT * FROM timers WHERE kind = 'ring'")
    assert len(timer) == 1 and timer[0]["call_id"] == call["call"]
    svc2 = service("--ring-timeout", "1.5")
    end = svc2.lines.wait(step="dispatch", timeout=10)
    assert (end["case"], end["reason"]) == (call["case"], "no_answer")
    assert len(_dispatches(db)) == 1
    assert query(db, "SELECT * FROM timers WHERE kind IN ('ring', 'answer')") == []


def test_killed_before_the_answer_the_callee_still_answers(db, service, hubs):
    add_account(db)
    svc = service("--ring-timeout", "3", "--callee", "--answer-delay", "1.5")
    from monitor.store import Store
    from tools.sim import callee
    callee.set_script(Store(db), 1, answer=True, password=PASSWORD)
    h = hubs()
    h.signal("hub-1", "E130", zone=1)
    call = svc.lines.wait(step="call")
    svc.kill9()
    assert len(query(db, "SELECT * FROM timers WHERE kind = 'provider'")) == 1
    svc2 = service("--ring-timeout", "3", "--callee", "--answer-delay", "1.5")
    end = svc2.lines.wait(step="cancel")
    assert (end["case"], end["reason"]) == (call["case"], "verified")
    assert _dispatches(db) == []


def test_killed_before_commit_nothing_is_stored_nor_acked_and_the_resend_runs_the_plan(
        db, service, hubs):
    add_account(db)
    svc = service("--fault", "before_commit:E130")
    h = hubs()
    seq = h.signal("hub-1", "E130", zone=1)
    assert svc.wait_exit() == -9
    assert query(db, "SELECT * FROM signals") == [] and query(db, "SELECT * FROM cases") == []
    assert not h.acked
    svc2 = service()
    assert h.wait_acked(resend_s=0.3)               # the hub resends until acked
    end = svc2.lines.wait(step="dispatch")
    assert end["reason"] == "no_answer"
    assert [r["seq"] for r in query(db, "SELECT seq FROM signals")] == [seq]
    assert len(_dispatches(db)) == 1


def test_killed_after_commit_before_ack_the_resend_is_acked_not_acted_on(db, service, hubs):
    add_account(db)
    svc = service("--fault", "after_commit:E130")
    h = hubs()
    h.signal("hub-1", "E130", zone=1)
    assert svc.wait_exit() == -9
    assert not h.acked                               # stored, but the ack never left
    cases = query(db, "SELECT * FROM cases")
    assert len(cases) == 1
    svc2 = service()
    assert h.wait_acked(resend_s=0.3)
    end = svc2.lines.wait(step="dispatch")
    assert end["case"] == cases[0]["id"]
    time.sleep(0.3)
    assert len(query(db, "SELECT * FROM cases")) == 1
    assert len(_dispatches(db)) == 1
    assert query(db, "SELECT n FROM counters WHERE name = 'duplicate'")[0]["n"] >= 1


def test_killed_right_after_dispatch_nothing_is_dispatched_twice_and_the_line_goes_out(
        db, service, hubs):
    add_account(db)
    svc = service("--fault", "after_commit:dispatch")
    h = hubs()
    h.signal("hub-1", "E130", zone=1)
    assert h.wait_acked()
    assert svc.wait_exit() == -9
    assert len(_dispatches(db)) == 1
    # The dispatch was committed but its line never went out: nobody was told.
    assert not svc.lines.where(step="dispatch")
    svc2 = service()
    told = svc2.lines.wait(step="dispatch")
    stored = query(db, "SELECT id FROM timeline WHERE step = 'dispatch'")
    assert (told["id"], told["reason"]) == (stored[0]["id"], "no_answer")
    h.acked.clear()
    h.resend_unacked()                               # the hub resends once more anyway
    h.signal("hub-1", "E406", user=1)                # and the owner disarms
    assert h.wait_acked()
    time.sleep(0.5)
    assert len(_dispatches(db)) == 1
    assert len(query(db, "SELECT * FROM cases")) == 1
    assert _final(db, 1) == ("dispatched", "no_answer")
    assert len(svc2.lines.where(step="dispatch")) == 1 and not svc2.lines.where(step="open")
    assert query(db, "SELECT * FROM outbox") == []


def test_killed_after_a_line_went_out_it_goes_out_again_never_not_at_all(db, service, hubs):
    add_account(db)
    svc = service("--fault", "after_emit:call", "--ring-timeout", "30")
    h = hubs()
    h.signal("hub-1", "E130", zone=1)
    assert svc.wait_exit() == -9
    call = svc.lines.wait(step="call")
    svc2 = service("--ring-timeout", "30")
    again = svc2.lines.wait(step="call")
    assert again == call                    # the same step, its id tells the repeat apart
    assert until(lambda: query(db, "SELECT * FROM outbox") == [])


def test_killed_mid_case_under_only_if_i_say_stays_held_after_restart(db, service, hubs):
    add_account(db, policy="only_if_i_say")
    svc = service("--ring-timeout", "1")
    h = hubs()
    h.signal("hub-1", "E130", zone=1)
    svc.lines.wait(step="call")
    svc.kill9()
    svc2 = service("--ring-timeout", "1")
    hold = svc2.lines.wait(step="hold")
    assert hold["reason"] == "no_answer"
    time.sleep(0.5)
    assert _dispatches(db) == []
    assert query(db, "SELECT status FROM cases")[0]["status"] == "open"
