"""How calls reach a person: the call-provider interface.

The plan places a call inside the case's transaction and tells the provider:
`placed(desk, case, position, call_id, t)`. The outcome comes back through the
Desk, on the engine's thread: `answered(call_id)`, `password(call_id, right?)`,
`request(call_id, "dispatch"|"cancel"|None)`, or `no_answer(call_id)`, which
the ring timer also reports when nobody picks up.

A provider that needs to act later sets a timer with
`desk.timer(due_ms, "provider", case=case, call_id=call_id, payload={...})`;
when it is due the Desk calls `fire(desk, timer, payload)` in the transaction
that claimed it, so it survives a restart like every other timer.

OperatorConsole, the service's own: a person dials and records the outcome
in the web console. The simulation plugs in an automatic callee
(tools/sim/callee.py) through the same interface.
"""


class OperatorConsole:
    name = "console"

    def placed(self, desk, case, position, call_id, t):
        pass     # the operator sees the ringing call in the console
