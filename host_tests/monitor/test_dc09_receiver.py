"""The monitoring service receives SIA DC-09 over real TCP: messages built
with pysiaalarm's own pieces (dc09_panel.py) and read back by its parser,
stored with the right hub, code, zone or user, and answered ACK only once
the store has committed them; bad ones are refused, answered as the standard
says and counted, and the listener goes on."""
import datetime
import socket
import threading
import time

import pytest

from desk_helpers import SECRET, add_account, query
from dc09_panel import KEYS, Link, answer_of, contact_id, message, null
from monitor.items import Call
from monitor.receiver import Hooks, Receiver, Settings
from uplink import wire
from waiting import until

ACCOUNT = "12AB"
EPOCH = 731460213


@pytest.fixture
def dc09(db, monitor):
    """dc09(key=None, **Settings) -> (rx, lines, link): hub-1 with a DC-09 account."""
    def start(key=None, **kw):
        add_account(db, dc09=ACCOUNT, dc09_secret=key)
        rx, lines = monitor(dc09_port=0, **kw)
        return rx, lines, Link(rx.dc09.port)
    return start


def signals(db):
    return query(db, "SELECT * FROM signals ORDER BY id")


@pytest.mark.parametrize("size", [None, 16, 24, 32], ids=["plain", "aes128", "aes192", "aes256"])
def test_signals_are_stored_with_code_zone_user_and_hub_then_acked(db, dc09, size):
    key = KEYS[size] if size else None
    rx, lines, link = dc09(key)
    kind, seq, content = answer_of(link.ask(contact_id(ACCOUNT, EPOCH, 7, "E", 130, 3, key=key)),
                                   ACCOUNT, key)
    assert (kind, seq) == ("ACK", "0007")
    if key:
        assert content.endswith(datetime.datetime.now(datetime.timezone.utc)
                                .strftime(",%m-%d-%Y")), content      # our time, encrypted
    case = lines.wait(plan="burglar", step="open")
    assert case["hub"] == "hub-1" and case["code"] == "E130" and case["zone"] == 3
    assert case["via"] == "dc09"                        # the timeline says how it came
    # An opening names the user who disarmed: the Contact ID table says so.
    assert answer_of(link.ask(contact_id(ACCOUNT, EPOCH, 8, "E", 401, 2, key=key)),
                     ACCOUNT, key)[:2] == ("ACK", "0008")
    assert answer_of(link.ask(null(ACCOUNT, 1, key=key)), ACCOUNT, key)[:2] == ("ACK", "0001")
    rows = signals(db)
    assert [(r["hub"], r["seq"], r["epoch"], r["code"], r["paths"]) for r in rows] == [
        ("hub-1", 7, EPOCH, "E130", "dc09"), ("hub-1", 8, EPOCH, "E401", "dc09")]
    import json
    assert json.loads(rows[0]["body"])["signal"] == {
        "code": "E130", "event": 130, "qualifier": "E", "seq": 7, "zone": 3}
    assert json.loads(rows[1]["body"])["signal"] == {
        "code": "E401", "event": 401, "qualifier": "E", "seq": 8, "user": 2}
    counts = rx.counters()
    assert counts["dc09_stored"] == 2 and counts["stored"] == 2
    assert counts["dc09_supervision"] == 1 and "dc09_rejected" not in counts
    assert query(db, "SELECT dc09_heard_ms FROM accounts")[0]["dc09_heard_ms"] is not None
    link.close()


def test_the_sequence_wraps_at_9999_and_a_restore_is_stored_as_r(db, dc09):
    rx, lines, link = dc09()
    assert answer_of(link.ask(contact_id(ACCOUNT, EPOCH, 10000, "R", 130, 3)))[:2] == \
        ("ACK", "0001")
    assert signals(db)[0]["code"] == "R130" and signals(db)[0]["seq"] == 10000


class FailOnce(Hooks):
    """The store fails the next commit that would store a DC-09 message."""

    def __init__(self):
        self.armed = threading.Event()

    def before_commit(self, items, steps):
        if self.armed.is_set() and any(type(i) is Call for i in items):
            self.armed.clear()
            raise RuntimeError("disk full (injected)")


def test_no_ack_without_the_commit_and_the_resend_is_stored_once(db, broker, prefix):
    add_account(db, dc09=ACCOUNT)
    hooks = FailOnce()
    rx = Receiver(Settings(db=db, port=broker.port, prefix=prefix, dc09_port=0),
                  hooks=hooks).start()
    try:
        msg = contact_id(ACCOUNT, EPOCH, 3, "E", 130, 5)
        hooks.armed.set()
        link = Link(rx.dc09.port)
        assert link.ask(msg) is None            # no answer: the connection is closed
        assert not hooks.armed.is_set()         # the commit did fail
        assert signals(db) == []
        again = Link(rx.dc09.port)              # the panel dials again and resends
        assert answer_of(again.ask(msg))[:2] == ("ACK", "0003")
        assert answer_of(again.ask(msg))[:2] == ("ACK", "0003")     # and once more
        assert len(signals(db)) == 1
        assert len(query(db, "SELECT * FROM cases")) == 1
        assert rx.counters()["dc09_duplicate"] == 1
        again.close()
    finally:
        rx.stop()


def _old(minutes):
    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes)


def _tampered(raw):
    # One content character changed, CRC left as it was.
    i = raw.index(b"1130")
    return raw[:i] + b"1131" + raw[i + 4:]


def _relength(raw):
    # The length field off by one, with a CRC that matches (the CRC does not cover it).
    return raw[:5] + b"%04X" % (int(raw[5:9], 16) + 1) + raw[9:]


REFUSALS = [
    # (what, the frame, answer, counter reason)
    ("garbage", lambda: b"\nhello there\r", "DUH", "malformed"),
    ("not ascii", lambda: b"\n\xff\xfe0047\"ADM-CID\"\r", "DUH", "malformed"),
    ("bad crc", lambda: _tampered(contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1)), "DUH",
     "bad_crc"),
    ("wrong length", lambda: _relength(contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1)), "DUH",
     "bad_length"),
    ("unknown account", lambda: contact_id("FFF", EPOCH, 1, "E", 130, 1), "DUH",
     "unknown_account"),
    ("unparsable content", lambda: message(ACCOUNT, 1, "hello]", check=False), "DUH",
     "malformed"),
    ("bad qualifier", lambda: message(ACCOUNT, 1, "2130 01 001][Isig 1.1]"), "DUH",
     "bad_event"),
    ("SIA-DCS without a code", lambda: message(ACCOUNT, 1, "Nti12:00:01/BA3]", kind="SIA-DCS",
                                               check=False), "DUH", "malformed"),
    ("an hour old", lambda: contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1, when=_old(60)), "NAK",
     "out_of_window"),
    ("a minute old", lambda: contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1, when=_old(1)), "NAK",
     "out_of_window"),
]


def test_bad_messages_are_refused_answered_and_counted_and_the_listener_goes_on(db, dc09,
                                                                              caplog):
    caplog.set_level("WARNING", logger="monitor")
    rx, lines, link = dc09()
    for n, (what, build, answer, reason) in enumerate(REFUSALS, 1):
        got = link.ask(build())
        assert got is not None, what
        assert answer_of(got)[0] == answer, (what, got)
        assert rx.counters().get("dc09_rejected_" + reason) == \
            sum(1 for r in REFUSALS[:n] if r[3] == reason), what
    assert rx.counters()["dc09_rejected"] == len(REFUSALS)
    assert signals(db) == [] and not lines.all
    # The NAK carries our time, to set the panel's DC-09 stamps by.
    nak = answer_of(link.ask(REFUSALS[-2][1]()))[2]
    assert nak.endswith(datetime.datetime.now(datetime.timezone.utc).strftime(",%m-%d-%Y"))
    assert '"NAK"0000' in nak
    # Still serving, on the same connection.
    assert answer_of(link.ask(contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1)))[0] == "ACK"
    assert rx.handled["dc09_rejected"] == len(REFUSALS) + 1
    assert rx.handled["dc09_stored"] == 1
    # Each refusal is one log line naming its reason, without a traceback.
    said = [r for r in caplog.records if r.name.startswith("monitor")]
    assert len(said) == len(REFUSALS) + 1
    assert all(r.exc_info is None and "refused" in r.getMessage() for r in said)
    assert {r.getMessage().split(": ")[1].split(" ")[0] for r in said} == \
        {reason for _, _, _, reason in REFUSALS}


def test_keys_must_match_both_ways(db, dc09):
    rx, lines, link = dc09(KEYS[16])
    wrong = contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1, key=KEYS[32], check=False)
    assert answer_of(link.ask(wrong))[:2] == ("DUH", "0001")
    plain = contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1)
    assert answer_of(link.ask(plain))[:2] == ("DUH", "0001")
    plain_null = null(ACCOUNT, 2)
    assert answer_of(link.ask(plain_null))[0] == "DUH"
    # Encrypted without a timestamp could be replayed whenever: refused.
    untimed = contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1, key=KEYS[16], timestamp=False)
    assert answer_of(link.ask(untimed))[0] == "DUH"
    counts = rx.counters()
    assert counts["dc09_rejected_bad_key"] == 1
    assert counts["dc09_rejected_plain_for_keyed"] == 2
    assert counts["dc09_rejected_no_timestamp"] == 1
    # A refused answer never carries the key (pysiaalarm would echo it as [K...]).
    for raw in (wrong, plain):
        assert KEYS[16].encode() not in link.ask(raw)
    assert signals(db) == []


def test_an_encrypted_message_for_an_unkeyed_account_is_refused(db, dc09):
    rx, lines, link = dc09()
    got = link.ask(contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1, key=KEYS[16], check=False))
    assert answer_of(got)[0] == "DUH"
    assert rx.counters()["dc09_rejected_no_key"] == 1


def test_a_replayed_message_is_a_duplicate_acked_and_not_acted_on_again(db, dc09):
    rx, lines, link = dc09(KEYS[24])
    msg = contact_id(ACCOUNT, EPOCH, 4, "E", 120, 0, key=KEYS[24])
    assert answer_of(link.ask(msg), ACCOUNT, KEYS[24])[0] == "ACK"
    lines.wait(plan="panic", step="open")
    other = Link(rx.dc09.port)
    assert answer_of(other.ask(msg), ACCOUNT, KEYS[24])[0] == "ACK"
    assert rx.counters()["dc09_duplicate"] == 1
    assert len(signals(db)) == 1 and len(query(db, "SELECT * FROM cases")) == 1
    assert len(lines.where(step="open")) == 1


def _mqtt_event(seq, code, epoch=EPOCH, **fields):
    sig = dict({"code": code, "event": int(code[1:]), "qualifier": code[0], "seq": seq}, **fields)
    import time
    return wire.event(SECRET, "hub-1", int(time.time()), sig, epoch)


def test_a_signal_by_mqtt_then_by_dc09_is_one_signal_acked_on_both(db, dc09, hubs):
    rx, lines, link = dc09()
    h = hubs()
    h.publish("hub-1", "events", _mqtt_event(5, "E130", zone=3, name="front_door"))
    assert until(lambda: ("hub-1", 5) in h.acked)
    lines.wait(plan="burglar", step="open")
    assert answer_of(link.ask(contact_id(ACCOUNT, EPOCH, 5, "E", 130, 3)))[:2] == ("ACK", "0005")
    rows = signals(db)
    assert len(rows) == 1 and rows[0]["paths"] == "mqtt,dc09"
    assert "via" not in lines.wait(plan="burglar", step="open")
    assert len(query(db, "SELECT * FROM cases")) == 1
    counts = rx.counters()
    assert counts["stored"] == 1 and counts["duplicate"] == 1 and "seq_reset" not in counts


def test_a_signal_by_dc09_then_by_mqtt_is_one_signal_acked_on_both(db, dc09, hubs):
    rx, lines, link = dc09(KEYS[32])
    h = hubs()
    got = link.ask(contact_id(ACCOUNT, EPOCH, 9, "E", 121, 4, key=KEYS[32]))
    assert answer_of(got, ACCOUNT, KEYS[32])[:2] == ("ACK", "0009")
    duress = lines.wait(plan="duress", step="open")
    assert duress["via"] == "dc09"
    h.publish("hub-1", "events", _mqtt_event(9, "E121", user=4, name="Ann"))
    assert until(lambda: ("hub-1", 9) in h.acked)
    rows = signals(db)
    assert len(rows) == 1 and rows[0]["paths"] == "dc09,mqtt"
    assert len(query(db, "SELECT * FROM cases")) == 1
    assert "seq_reset" not in rx.counters()


def test_another_event_under_a_stored_epoch_and_seq_is_still_a_reset(db, dc09, hubs):
    rx, lines, link = dc09()
    h = hubs()
    h.publish("hub-1", "events", _mqtt_event(2, "R401", user=1, name="Ann"))
    assert until(lambda: ("hub-1", 2) in h.acked)
    assert answer_of(link.ask(contact_id(ACCOUNT, EPOCH, 2, "E", 130, 1)))[0] == "ACK"
    lines.wait(plan="trouble", step="open", reason="seq_reset")
    lines.wait(plan="burglar", step="open")
    assert len(signals(db)) == 2 and rx.counters()["seq_reset"] == 1


def test_connections_are_bounded_and_idle_ones_closed(db, dc09):
    rx, lines, link = dc09()
    rx.dc09.max_clients = 2
    second = Link(rx.dc09.port)
    assert answer_of(second.ask(null(ACCOUNT, 1)))[0] == "ACK"    # both are being served
    third = Link(rx.dc09.port)
    # Full: the one idle longest that never sent a frame makes room.
    assert link.answer() is None
    assert answer_of(third.ask(null(ACCOUNT, 2)))[0] == "ACK"
    assert until(lambda: rx.counters().get("dc09_rejected_evicted_idle") == 1)
    assert rx.dc09.clients == 2
    second.close()
    assert until(lambda: rx.dc09.clients == 1)
    third.close()
    rx.dc09.idle_s = 0.3
    panel = Link(rx.dc09.port)
    assert answer_of(panel.ask(null(ACCOUNT, 3)))[0] == "ACK"
    assert panel.answer() is None                                   # closed when idle
    rx.dc09.first_frame_s = 0.3
    idle = Link(rx.dc09.port)
    idle.send(b"\r")                        # a blank line is no frame: its deadline runs on
    assert idle.answer() is None
    rx.dc09.max_clients = 10
    # An endless line: refused without waiting for its end, the connection dropped.
    endless = Link(rx.dc09.port)
    endless.send(b"\n" + b"A" * 5000)
    assert answer_of(endless.answer())[0] == "DUH"
    assert endless.answer() is None
    assert until(lambda: rx.counters().get("dc09_rejected_oversize") == 1)


def _idle(port, source):
    """A connection from `source` that sends nothing; closed by us after the test."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass                                # refused: what the receiver may do
    return s


def _closed_by_peer(s, within=5.0):
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True                         # reset


def test_200_idle_connections_do_not_keep_a_panel_out(db, dc09):
    """200 silent connections from 200 addresses (the old receiver then
    closed every panel's connection for 5 minutes): the panel is acked at once."""
    rx, lines, link = dc09()
    link.close()
    idle = []
    try:
        for i in range(200):
            idle.append(_idle(rx.dc09.port, "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)))
        assert until(lambda: rx.dc09.clients >= 60)
        for seq in (1, 2, 3):
            panel = Link(rx.dc09.port, timeout=5)
            assert answer_of(panel.ask(null(ACCOUNT, seq)))[:2] == ("ACK", "%04d" % seq)
            panel.close()
        assert rx.dc09.clients <= 64
        assert until(lambda: rx.counters().get("dc09_rejected_evicted_idle", 0) >= 130)
    finally:
        for s in idle:
            s.close()


def test_a_silent_connection_is_closed_at_the_first_frame_deadline(db, dc09):
    rx, lines, link = dc09()
    link.close()
    rx.dc09.first_frame_s = 0.5
    started = time.monotonic()
    link = Link(rx.dc09.port)
    assert link.answer() is None                                    # never sent a frame
    assert time.monotonic() - started < 3
    assert until(lambda: rx.counters().get("dc09_rejected_no_first_frame") == 1)
    panel = Link(rx.dc09.port)
    assert answer_of(panel.ask(null(ACCOUNT, 1)))[0] == "ACK"
    time.sleep(1.0)                         # past the first frame's deadline: a panel stays
    assert answer_of(panel.ask(null(ACCOUNT, 2)))[0] == "ACK"
    panel.close()


def test_one_address_holds_at_most_its_share_of_the_connections(db, dc09):
    rx, lines, link = dc09()
    link.close()
    socks = [_idle(rx.dc09.port, "127.0.0.9") for _ in range(20)]
    try:
        assert until(lambda: rx.counters().get("dc09_rejected_too_many_from_address") == 12)
        assert sum(not _closed_by_peer(s, 0.2) for s in socks) == 8
        # Nobody else was evicted for them.
        assert "dc09_rejected_evicted_idle" not in rx.counters()
    finally:
        for s in socks:
            s.close()


def test_with_the_broker_down_signals_come_by_dc09_once_and_mqtt_adds_nothing(db, tmp_path):
    """Both paths on, the broker dies during an alarm: every signal reaches the
    service over DC-09, once, in order; when the broker is back the hub's MQTT
    resends are acked and duplicate nothing."""
    from tools.hubs import Hubs
    from tools.broker import Broker
    import time
    broker = Broker(str(tmp_path / "mosquitto")).start()
    add_account(db, dc09=ACCOUNT, dc09_secret=KEYS[16])
    rx = Receiver(Settings(db=db, port=broker.port, prefix="down", dc09_port=0)).start()
    h = Hubs(broker.port, "down", {"hub-1": SECRET})
    try:
        broker.stop()
        link = Link(rx.dc09.port)
        alarm = [(1, "E", 130, 2), (2, "E", 134, 1), (3, "R", 130, 2), (4, "E", 401, 1)]
        for seq, q, event, n in alarm:
            got = link.ask(contact_id(ACCOUNT, EPOCH, seq, q, event, n, key=KEYS[16]))
            assert answer_of(got, ACCOUNT, KEYS[16])[:2] == ("ACK", "%04d" % seq)
        rows = signals(db)
        assert [(r["seq"], r["code"]) for r in rows] == [(1, "E130"), (2, "E134"), (3, "R130"),
                                                         (4, "E401")]
        assert len(query(db, "SELECT * FROM cases WHERE plan = 'burglar'")) == 1
        broker.start()
        events = {seq: _mqtt_event(seq, "%s%03d" % (q, event), zone=n)
                  for seq, q, event, n in alarm}
        last = [0.0]

        def all_acked():
            # As the hub's outbox does: resend what is unacked, now and then.
            if time.monotonic() - last[0] > 0.5:
                last[0] = time.monotonic()
                for seq, payload in events.items():
                    if ("hub-1", seq) not in h.acked:
                        h.publish("hub-1", "events", payload)
            return all(("hub-1", seq) in h.acked for seq in events)
        assert until(all_acked, timeout=30)
        rows = signals(db)
        assert len(rows) == 4 and {r["paths"] for r in rows} == {"dc09,mqtt"}
        assert len(query(db, "SELECT * FROM cases WHERE plan = 'burglar'")) == 1
        counts = rx.counters()
        assert counts["stored"] == 4 and counts["dc09_stored"] == 4
        assert "seq_reset" not in counts
        link.close()
    finally:
        h.close()
        rx.stop()
        broker.stop()


def test_the_time_window_is_configurable(db, dc09):
    rx, lines, link = dc09(dc09_window=(7200, 20))
    late = contact_id(ACCOUNT, EPOCH, 1, "E", 130, 1, when=_old(60))
    assert answer_of(link.ask(late))[0] == "ACK"
    early = contact_id(ACCOUNT, EPOCH, 2, "E", 130, 1, when=_old(-5))     # 5 min ahead
    assert answer_of(link.ask(early))[0] == "NAK"
