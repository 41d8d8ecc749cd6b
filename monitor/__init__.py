"""The monitoring endpoint: receives hub signals over MQTT (docs/protocol.md),
opens cases and runs the alarm response plans (docs/monitoring.md).

In-process use (a story runner, tests):

    from monitor import Receiver, Settings
    rx = Receiver(Settings(db="cases.db", port=1883, jsonl=True),
                  provider=None,      # calls through the operator console (monitor/calls.py)
                  clock=None)         # the system clock (monitor/clock.py)
    rx.start()
    ...
    rx.stop()

The simulation plugs in its automatic callee and a fast clock the same way
(tools/sim/world.py, tools/sim/monitor.py).
"""


def __getattr__(name):
    # Lazy, so `python -m monitor account ...` does not import paho.
    if name in ("Receiver", "Settings"):
        from monitor import receiver
        return getattr(receiver, name)
    raise AttributeError(name)
