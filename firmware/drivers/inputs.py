# Wired zones and the enclosure tamper switch: normally-closed loops to a GPIO
# with pull-up. Closed loop reads 0; an opened door or a cut wire reads 1.
from panel import ticks


class WiredInputs:
    settle_ms = 50       # a level must hold this long before it counts

    def __init__(self, inputs):
        # inputs: list of (zone, pin); zone is the panel zone name or number.
        self.inputs = inputs
        self.level = [None] * len(inputs)
        self._raw = [None] * len(inputs)
        self._since = [0] * len(inputs)

    def poll(self, now):
        # Returns [(zone, "open"|"close")] for each settled change. The first
        # settled reading after boot is reported too, so the panel knows.
        events = []
        for i in range(len(self.inputs)):
            zone, pin = self.inputs[i]
            v = pin.value()
            if v != self._raw[i]:
                self._raw[i] = v
                self._since[i] = now
                continue
            if v != self.level[i] and ticks.diff(now, self._since[i]) >= self.settle_ms:
                first = self.level[i] is None
                self.level[i] = v
                if v or not first:
                    events.append((zone, "open" if v else "close"))
        return events
