"""What the engine's queue carries (None on it: stop)."""
from typing import Any, NamedTuple


class Msg(NamedTuple):
    """An MQTT message as it arrived (a hub's event or availability)."""
    topic: str
    payload: bytes
    arrived_ms: int


class Call(NamedTuple):
    """fn(desk), to run on the engine thread inside a transaction; its result
    or exception goes to future (Receiver.submit)."""
    fn: Any
    future: Any


class Done(NamedTuple):
    """An item of a committed batch and what came of it: result, or error
    (then result is None)."""
    item: Any
    result: Any
    error: Any
