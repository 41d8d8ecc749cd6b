"""The monitoring endpoint: receives hub signals over MQTT (docs/protocol.md),
opens cases and runs the alarm response plans (docs/monitoring.md).

In-process use (a story runner, tests):

    from monitor import Receiver, Settings
    rx = Receiver(Settings(db="cases.db", port=1883, jsonl=True, time_scale=0.05))
    rx.start()
    rx.callee.script(contact=1, answer=True, password="blue heron", request=None)
    ...
    rx.stop()
"""


def __getattr__(name):
    # Lazy, so `python -m monitor account ...` does not import paho.
    if name in ("Receiver", "Settings"):
        from monitor import receiver
        return getattr(receiver, name)
    raise AttributeError(name)
