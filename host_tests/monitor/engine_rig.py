"""The engine in-process on a fake clock: a Desk over a real SQLite store, a
fake call provider that only notes the calls placed, and a clock that moves
only when the test says. No broker, no threads, no sleeps: advance the clock
and the timers that came due fire, as the receiver's loop would fire them."""
from desk_helpers import PASSWORD, add_account
from monitor import accounts, timers
from monitor.cases import Desk
from monitor.store import Store

START_MS = 1_764_000_000_000


class FakeClock:
    def __init__(self, now_ms=START_MS):
        self.t = now_ms

    def now_ms(self):
        return self.t

    def wait_s(self, due_ms):
        return 0.0

    def unix_s(self):
        return self.t // 1000


class Phones:
    """The call provider: records each call placed; the test plays the person."""
    name = "test"

    def __init__(self):
        self.placed_calls = []

    def placed(self, desk, case, position, call_id, t):
        self.placed_calls.append({"case": case["id"], "hub": case["hub"], "contact": position,
                                  "call": call_id, "t": t})


class Rig:
    def __init__(self, db, ring_ms=30_000, hold_ms=300_000, follow_up_ms=1_800_000,
                 test_grace_ms=600_000, ack_ms=86_400_000):
        self.db = db
        self.clock = FakeClock()
        self.phones = Phones()
        self.store = Store(db)
        self.desk = Desk(self.store, self.phones, clock=self.clock, ring_ms=ring_ms,
                         hold_ms=hold_ms, follow_up_ms=follow_up_ms, test_grace_ms=test_grace_ms,
                         ack_ms=ack_ms)
        self.seq = {}
        self.lines = []

    def account(self, hub="hub-1", **kw):
        self.store.close()
        add_account(self.db, hub, **kw)
        self.store = self.desk.store = Store(self.db)
        return self

    # ---- driving it ----

    def act(self, fn):
        """fn(desk) in one transaction, as the engine thread runs each item."""
        self.desk.out = []
        with self.store.tx():
            result = fn(self.desk)
        self.lines.extend(self.desk.out)
        return result

    def signal(self, code, hub="hub-1", seq=None, **fields):
        """A verified event from the hub; returns the case it went to (or None)."""
        if seq is None:
            seq = self.seq.get(hub, 0) + 1
        self.seq[hub] = max(seq, self.seq.get(hub, 0))
        sig = dict({"code": code, "event": int(code[1:]), "qualifier": code[0], "seq": seq,
                    "zone": 0}, **fields)
        body = {"v": 1, "type": "event", "hub": hub, "time": self.clock.t // 1000, "signal": sig}
        self.act(lambda desk: desk.signal(hub, body))
        row = self.store.one("SELECT case_id FROM signals WHERE hub = ? AND seq = ?", hub, seq)
        return row["case_id"]

    def advance(self, ms):
        """Move the clock on by ms, firing every timer that comes due on the way, in order."""
        end = self.clock.t + ms
        while True:
            due = timers.next_due(self.store)
            if due is None or due > end:
                break
            self.clock.t = max(self.clock.t, due)
            self.act(lambda desk: timers.fire_due(desk))
        self.clock.t = end

    def ringing(self, case_id):
        row = self.store.one("SELECT id FROM calls WHERE case_id = ? AND status = 'ringing' "
                             "ORDER BY id DESC LIMIT 1", case_id)
        return row["id"] if row else None

    def pick_up(self, case_id, password=PASSWORD, request=None, after_ms=2_000):
        """The contact answers the ringing call, says `password` (None: nothing) and asks."""
        self.advance(after_ms)
        call = self.ringing(case_id)
        assert call is not None, "no call ringing on case %s: %s" % (case_id, self.steps(case_id))
        self.act(lambda desk: desk.answered(call))
        if password is not None:
            ok = accounts.check_password(self.store, self.case(case_id)["hub"], password)
            self.act(lambda desk: desk.password(call, ok))
        self.act(lambda desk: desk.request(call, request))

    # ---- reading it ----

    def case(self, case_id):
        return dict(self.store.one("SELECT * FROM cases WHERE id = ?", case_id))

    def steps(self, case_id):
        return [(r["step"], r["reason"]) for r in self.store.q(
            "SELECT step, reason FROM timeline WHERE case_id = ? ORDER BY id", case_id)]

    def where(self, **match):
        return [line for line in self.lines if all(line.get(k) == v for k, v in match.items())]

    def end(self, case_id):
        """The case's deciding step: its dispatch, cancel or hold line."""
        for line in reversed(self.where(case=case_id)):
            if line["step"] in ("dispatch", "cancel", "hold", "close"):
                return line
        raise AssertionError("case %s has not ended: %s" % (case_id, self.steps(case_id)))

    def dispatches(self):
        return [dict(r) for r in self.store.q("SELECT * FROM dispatches ORDER BY case_id")]
