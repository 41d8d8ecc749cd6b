"""Fault injection for the restart tests: the service kills itself (SIGKILL)
at an exact point of its work, as a power cut would.

    Fault("after_commit:E130")   # once the batch holding an E130 has committed
    Fault("before_commit:dispatch")   # just before a dispatch would commit
    Fault("after_emit:call")     # right after a call step was emitted

The part after ':' is a Contact ID code (matched in the signals of the batch)
or a timeline step. Plugs into monitor.receiver.Receiver(hooks=...)."""
import os
import signal
import sys

from monitor.items import Msg
from monitor.receiver import Hooks

POINTS = ("before_commit", "after_commit", "after_emit")


class Fault(Hooks):
    def __init__(self, spec):
        point, sep, want = spec.partition(":")
        if point not in POINTS or not sep or not want:
            raise ValueError("fault %r: want <%s>:<code or step>" % (spec, "|".join(POINTS)))
        self.point, self.want = point, want

    def _hit(self, items, steps):
        return any(type(item) is Msg and self.want.encode() in item.payload for item in items) \
            or any(step["step"] == self.want for step in steps)

    def before_commit(self, items, steps):
        if self.point == "before_commit" and self._hit(items, steps):
            self._die()

    def after_commit(self, items, steps):
        if self.point == "after_commit" and self._hit(items, steps):
            self._die()

    def after_emit(self, line):
        if self.point == "after_emit" and line["step"] == self.want:
            self._die()

    @staticmethod
    def _die():
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
