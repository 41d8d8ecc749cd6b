"""The operator's actions on a case: the one set, used by the console's routes
and by the simulation's house page (as a server-side call in the same process).

Each runs on the engine thread inside its transaction (Receiver.submit), and
first writes an `operator` step naming who did what; a refused action rolls
that step back with everything else, so the timeline never shows an action
that did not happen."""
import asyncio

from monitor import accounts, verbal
from monitor.cases import Refused

ACTIONS = ("call", "answered", "no_answer", "password", "request", "dispatch", "cancel",
           "close", "acknowledge")
TIMEOUT_S = 10


def _live_call(desk, case_id, status):
    row = desk.store.one("SELECT id FROM calls WHERE case_id = ? AND status = ? "
                         "ORDER BY id DESC LIMIT 1", case_id, status)
    if row is None:
        raise Refused("no %s call on case %s" % (status, case_id))
    return row["id"]


def engine_fn(operator, case_id, action, body, verdict=None):
    """fn(desk) doing `action` on the case as `operator`; Refused for what the plan refuses.
    verdict: for "password", whether what the caller said was right (checked by act())."""
    if action not in ACTIONS:
        raise Refused("unknown action %r (one of %s)" % (action, ", ".join(ACTIONS)))
    if action == "password":
        spoken = body.get("password")
        if not isinstance(spoken, str) or not spoken.strip():
            raise Refused("type the password the caller gave")
    request = body.get("request")
    if action == "request" and request not in ("dispatch", "cancel", None):
        raise Refused("request must be dispatch, cancel or null")
    contact = body.get("contact")
    if contact is not None and (not isinstance(contact, int) or isinstance(contact, bool)):
        raise Refused("contact must be a position from 1")

    def run(desk):
        case = desk.case(case_id)
        if case is None:
            raise Refused("no case %s" % case_id)
        desk.step(case, "operator", reason=action, operator=operator)
        if action == "call":
            return desk.operator_call(case_id, contact)
        if action == "answered":
            desk.answered(_live_call(desk, case_id, "ringing"))
            return True
        if action == "no_answer":
            return desk.no_answer(_live_call(desk, case_id, "ringing"))
        if action == "password":
            return "right" if desk.operator_password(case_id, bool(verdict)) else "wrong"
        if action == "request":
            return desk.request(_live_call(desk, case_id, "answered"), request)
        if action == "dispatch":
            return desk.operator_dispatch(case_id)
        if action == "acknowledge":
            return desk.operator_acknowledge(case_id, operator=operator)
        if action == "close":
            # The responders are done (a standing duress case ends only this way).
            return desk.operator_close(case_id)
        return desk.operator_cancel(case_id)
    return run


def _stored_hash(case_id):
    def run(desk):
        case = desk.case(case_id)
        if case is None:
            raise Refused("no case %s" % case_id)
        return accounts.password_hash(desk.store, case["hub"])
    return run


async def _engine(rx, fn):
    return await asyncio.wait_for(asyncio.wrap_future(rx.submit(fn)), TIMEOUT_S)


async def act(rx, operator, case_id, action, body, check=None):
    """Do it on the engine without blocking the event loop; the engine's result.

    A verbal password is checked here, between two engine calls (read the hash,
    record the verdict), never on the engine thread: its hash is slow on purpose
    and that thread acks every hub's signals. check(fn, *args): how to run the
    check (the console's bounded pool, hashing.HashGate.run); default a thread."""
    fn = engine_fn(operator, case_id, action, body)      # refuses bad input up front
    if action == "password":
        stored = await _engine(rx, _stored_hash(case_id))
        ok = await (check or asyncio.to_thread)(verbal.check, stored, body["password"])
        fn = engine_fn(operator, case_id, action, body, verdict=ok)
    return await _engine(rx, fn)
