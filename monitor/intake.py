"""Checking what arrives on `<prefix>/<hub>/events` before anything acts on it.

Nothing from the network is trusted until the hub's own secret verifies it
(docs/protocol.md: MAC over the canonical JSON, version 1, the topic's hub)."""


from monitor import signing
from uplink import wire_host

MAX_PAYLOAD = 4096


class Rejected(Exception):
    """reason: one of oversize, malformed, unknown_hub, bad_mac, bad_event."""

    def __init__(self, reason, hub=None):
        super().__init__(reason)
        self.reason = reason
        self.hub = hub


def hub_of(topic, prefix, leaf):
    """The hub id in `<prefix>/<hub>/<leaf>`, or None."""
    head = prefix + "/"
    tail = "/" + leaf
    if not topic.startswith(head) or not topic.endswith(tail):
        return None
    hub = topic[len(head):-len(tail)]
    return hub if hub and "/" not in hub else None


def check(payload, topic_hub, secret_of):
    """The verified event body, or raise Rejected.

    secret_of(hub) -> bytes or None (unknown hub).
    """
    if len(payload) > MAX_PAYLOAD:
        raise Rejected("oversize", topic_hub)
    secret = secret_of(topic_hub) if topic_hub else None
    body = signing.verify_as_sent(secret, payload) if secret is not None else None
    if body is None:
        # Not as a hub sends it: parsed, and canonical JSON made to check it
        # (as uplink/wire.py does), which also says what is wrong with it.
        obj, signable = signing.parse(payload)
        if obj is None:
            raise Rejected("malformed", topic_hub)
        if secret is None:
            raise Rejected("unknown_hub", topic_hub)
        body = signing.verify(secret, obj, signable)
        if body is None:
            raise Rejected("bad_mac", topic_hub)
    if wire_host.event_shape(body, topic_hub) is None or not _good_signal(body["signal"]):
        raise Rejected("bad_event", topic_hub)
    return body


def _good_signal(sig):
    return isinstance(sig.get("code"), str) and sig["seq"] >= 0


def ack(secret, hub, seqs, time_s):
    # With the monitor's time (its clock, as its signed commands carry it):
    # the hub's clock is set from it.
    return wire_host.ack(secret, hub, seqs, int(time_s), sign=signing.sign)


def command(secret, hub, command_id, time_s, action, **fields):
    return wire_host.command(secret, hub, command_id, time_s, action, **fields)
