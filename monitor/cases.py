"""The Desk: the plan runner over one store connection, assembled from its parts.

  case_record.py      a case and its timeline: steps, fields, openings, endings
  plan_run.py         what signals and call outcomes do (the plans at work)
  operator_actions.py what an operator does from the console
  case_timers.py      setting timers, and what each does when due
  case_store.py       their SQL

Every method runs inside the caller's transaction (Store.tx); see case_record.py."""
from monitor.case_record import Refused, acting    # noqa: F401 (the names callers import)
from monitor.case_timers import CaseTimers
from monitor.operator_actions import OperatorActions
from monitor.plan_run import PlanRun


class Desk(OperatorActions, CaseTimers, PlanRun):
    """Desk(store, provider, clock=SYSTEM, ring_ms=30_000, test_grace_ms=600_000,
    hold_ms=300_000, follow_up_ms=1_800_000); see CaseRecord for each."""
