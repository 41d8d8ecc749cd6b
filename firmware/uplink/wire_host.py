# The wire format's messages that only the monitoring side (and the tests, the
# simulation, the bench) makes or checks: the hub sends events and checks acks and
# commands (uplink/wire.py). Left off the board image (tools/mpy_build.py HOST_ONLY).
from uplink.wire import VERSION, sign, verify


def check_event(secret, payload, hub=None):
    """The verified event object, or None (bad mac, wrong version or hub, bad shape)."""
    return event_shape(verify(secret, payload), hub)


def event_shape(body, hub=None):
    """An already verified body if it is an event of this version (and hub), else None."""
    if body is None or body.get("v") != VERSION or body.get("type") != "event":
        return None
    if hub is not None and body.get("hub") != hub:
        return None
    sig = body.get("signal")
    if not isinstance(sig, dict) or not _is_int(sig.get("seq")):
        return None
    return body


def ack(secret, hub, seqs, time_s=None, sign=sign):
    """A signed /acks payload (the monitoring side sends it), with its Unix time
    when given: the hub sets its clock from it. sign: wire.sign, or the same
    bytes made faster (monitor/signing.py)."""
    body = {"v": VERSION, "type": "ack", "hub": hub, "seqs": list(seqs)}
    if time_s is not None:
        body["time"] = time_s
    return sign(secret, body)


def command(secret, hub, cid, time_s, action, **fields):
    """A signed /commands payload (a monitoring or app side sends it)."""
    body = {"v": VERSION, "type": "command", "hub": hub, "id": cid, "ts": time_s,
            "action": action}
    for k in fields:
        body[k] = fields[k]
    return sign(secret, body)


def _is_int(v):
    return isinstance(v, int) and v is not True and v is not False
