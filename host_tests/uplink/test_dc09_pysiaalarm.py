"""The hub's DC-09 messages checked by an outside receiver: pysiaalarm 3.2.2,
the library behind Home Assistant's SIA integration. The messages are made by
the firmware under the real micropython (its cryptolib's AES-CBC; the software
AES for 24-character keys, which cryptolib refuses), decoded by pysiaalarm's
parser and its real TCP server; our CBC is checked against `cryptography` too."""
import json
import os
import socketserver
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pysiaalarm import SIAAccount, SIAEvent
from pysiaalarm.data.data import ADM_MAPPING
from pysiaalarm.sync.client import SIAClient

from panel import contact_id_table
from tools import paths
from uplink_driver import Driver

ACCOUNT = "12AB"
KEYS = (None, "0123456789abcdef", "0123456789ABCDEF0123456789abcdef",
        "0123456789ABCDEF01234567")
KEY_IDS = ["plain", "aes128", "aes256", "aes192"]
EPOCH = 4242


def _mp_json(code):
    done = subprocess.run([paths.venv_tool("micropython"), "-c", code], capture_output=True,
                          env=paths.micropython_env(), timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def _cases():
    # Every event of the panel's Contact ID table, as a new event and as a
    # restore, on a zone and on a user; seqs past 9999 too (the sequence wraps).
    cases = []
    seq = 9990
    for spec in contact_id_table.events():
        for q in ("E", "R"):
            for who in ("zone", "user"):
                seq += 1
                cases.append({"code": "%s%03d" % (q, spec[0]), "event": spec[0], "qualifier": q,
                              "seq": seq, who: seq % 97, "name": "x"})
    return cases


def _expected_code(event, q):
    m = ADM_MAPPING.get("%03d" % event)
    return m and m.get("1" if q == "E" else "3")


@pytest.mark.parametrize("key", KEYS, ids=KEY_IDS)
def test_every_event_decodes_in_pysiaalarm(key):
    cases = _cases()
    made = _mp_json("""
import json, time
from uplink import dc09, dc09_cbc
key = %r
k = dc09_cbc.check_key(key) if key else None
for sig in json.loads(%r):
    m = dc09.message("ADM-CID", dc09.number(sig["seq"]), %r, k, None, "0",
                     dc09.content(sig, %d), int(time.time()))
    print(json.dumps(m.decode()))
""" % (key, json.dumps(cases), ACCOUNT, EPOCH))
    assert len(made) == len(cases)
    account = SIAAccount(ACCOUNT, key)
    for sig, line in zip(cases, made):
        assert line[0] == "\n" and line[-1] == "\r"
        ev = SIAEvent.from_line(line.strip(), {ACCOUNT: account})
        assert ev.valid_message, line                      # its CRC over what we sent
        # pysiaalarm's valid_length reads the hex length as decimal (3.2.2):
        # the length is checked here as DC-09 defines it, hex.
        assert int(ev.length, 16) == len(ev.full_message)
        assert ev.encrypted is (key is not None)
        assert ev.valid_timestamp, line
        assert ev.account == ACCOUNT
        assert int(ev.sequence) == (sig["seq"] - 1) % 9999 + 1
        assert ev.event_qualifier == ("1" if sig["qualifier"] == "E" else "3")
        assert int(ev.event_type) == sig["event"] and ev.partition == "01"
        assert int(ev.ri) == sig.get("zone", sig.get("user"))
        assert ev.x_data == "Isig %d.%d" % (EPOCH, sig["seq"])
        want = _expected_code(sig["event"], sig["qualifier"])
        # 383, 384 and 459 are not in pysiaalarm's ADM table: it reports them
        # as YN ("invalid report"), with the qualifier, event and zone above.
        assert ev.code == (want or "YN") and ev.response.value == "ACK", (sig, ev.code)


def test_null_link_test_decodes_in_pysiaalarm():
    for key in KEYS:
        line = _mp_json("""
import json, time
from uplink import dc09, dc09_cbc
k = dc09_cbc.check_key(%r) if %r else None
print(json.dumps(dc09.message("NULL", 12, %r, k, "3", "1", "", int(time.time())).decode()))
""" % (key, key, ACCOUNT))[0]
        ev = SIAEvent.from_line(line.strip(), {ACCOUNT: SIAAccount(ACCOUNT, key)})
        assert ev.message_type.value == "NULL" and ev.valid_message and ev.valid_timestamp
        assert ev.receiver == "R3" and ev.line == "L1" and ev.sequence == "0012"
        assert ev.response.value == "ACK"


def test_cbc_matches_cryptography_on_the_board_runtime():
    data = os.urandom(64)
    keys = ["0123456789abcdef", "0123456789ABCDEF0123456789abcdef", "0123456789ABCDEF01234567"]
    got = _mp_json("""
import json, binascii
from uplink import dc09_cbc
data = binascii.unhexlify(%r)
for key in %r:
    k = dc09_cbc.check_key(key)
    c = dc09_cbc.encrypt(k, data)
    print(json.dumps([binascii.hexlify(c).decode(), dc09_cbc.decrypt(k, c) == data]))
import cryptolib
try:
    cryptolib.aes(b"0" * 24, 2, bytes(16))
    print(json.dumps("aes192"))
except ValueError:
    print(json.dumps("no aes192"))
""" % (data.hex(), keys))
    for key, (hexed, back) in zip(keys, got):
        enc = Cipher(algorithms.AES(key.encode()), modes.CBC(bytes(16))).encryptor()
        assert hexed == (enc.update(data) + enc.finalize()).hex() and back
    # Why 24-character keys go to the software AES (crypto/aes_soft.py): the
    # board's cryptolib refuses them (extmod/modcryptolib.c takes 16 and 32).
    assert got[-1] == "no aes192"


@pytest.fixture
def receiver():
    """pysiaalarm's threaded TCP server; its events in a list."""
    made = []

    def start(key):
        events = []
        client = SIAClient("127.0.0.1", 0, [SIAAccount(ACCOUNT, key)], events.append)
        client.start()
        client.events = events
        client.port = client.sia_server.server_address[1]
        made.append(client)
        return client

    yield start
    for c in made:
        c.stop()


def _drive(port, key, signals, **cfg):
    full = {"port": port, "account": ACCOUNT, "key": key, "signals": signals, "epoch": EPOCH}
    full.update(cfg)
    return Driver(None, full, script="mp_dc09_driver.py")


def _sig(seq, q="E", event=130, zone=3):
    return {"code": "%s%03d" % (q, event), "event": event, "qualifier": q, "seq": seq,
            "zone": zone, "name": "hall"}


@pytest.mark.parametrize("key", KEYS, ids=KEY_IDS)
def test_hub_sender_gets_pysiaalarm_acks(receiver, key):
    rx = receiver(key)
    sigs = [_sig(s, q, ev) for s, (q, ev) in
            enumerate([("E", 130), ("R", 130), ("E", 120), ("R", 401), ("E", 602)], 1)]
    d = _drive(rx.port, key, sigs)
    done = d.ev("done", timeout=30)
    assert done["outbox"] == [] and done["stats"]["acked"] == 5, done
    assert done["stats"]["bad_answers"] == 0 and done["stats"]["failures"] == 0
    assert [e.code for e in rx.events] == ["BA", "BH", "PA", "CL", "RP"]
    assert [e.x_data for e in rx.events] == ["Isig %d.%d" % (EPOCH, s) for s in range(1, 6)]
    # One message at a time and the answer read without blocking: the loop keeps turning.
    what = "%d-character key" % len(key) if key else "plain"
    print("\nlongest loop pass, 5 signals acked (%s): %d ms" % (what, done["max_gap_ms"]))
    assert done["max_gap_ms"] < 200, done


def test_nak_for_a_wrong_clock_then_ack(receiver):
    # The hub's clock is an hour slow: pysiaalarm NAKs with its time, the hub
    # stamps DC-09 messages with that offset and the signal goes through.
    rx = receiver(KEYS[1])
    d = _drive(rx.port, KEYS[1], [_sig(7)], skew_s=-3600)
    done = d.ev("done", timeout=30)
    assert done["outbox"] == [] and done["stats"]["naks"] == 1 and done["stats"]["acked"] == 1
    assert 3590 <= done["offset"] <= 3610
    assert [e.code for e in rx.events] == ["BA"]


class _DuhReceiver(socketserver.ThreadingTCPServer):
    """pysiaalarm's parser and answers, refusing E384 as a receiver whose
    code table lacks it does: pysiaalarm's own DUH (it maps every ADM code it
    does not know to YN and acks, so its server never says DUH to ADM-CID)."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, key):
        self.account = SIAAccount(ACCOUNT, key)
        self.events = []
        super().__init__(("127.0.0.1", 0), _DuhHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _DuhHandler(socketserver.BaseRequestHandler):
    def handle(self):
        buf = b""
        while True:
            chunk = self.request.recv(1024)
            if not chunk:
                return
            buf += chunk
            while b"\r" in buf:
                line, buf = buf.split(b"\r", 1)
                ev = SIAEvent.from_line(line.decode().strip(), {ACCOUNT: self.server.account})
                if ev.event_type == "384":
                    ev.sia_code = None              # "code not found": DUH
                self.server.events.append(ev)
                self.request.sendall(ev.create_response())


def test_duh_holds_the_signal_and_the_rest_go_on():
    # The signal the receiver refused is kept (held for duh_ms, then sent
    # again); the ones behind it are sent and acked meanwhile.
    for key in (None, KEYS[1]):
        rx = _DuhReceiver(key)
        try:
            d = _drive(rx.server_address[1], key, [_sig(1, "E", 384), _sig(2), _sig(3, "R", 130)],
                       until={"acked": 2}, until_empty=False, duh_ms=600000)
            done = d.ev("done", timeout=30)
        finally:
            rx.shutdown()
            rx.server_close()
        assert done["stats"]["duh"] == 1 and done["stats"]["acked"] == 2, done
        assert done["outbox"] == [1] and done["stats"]["bad_answers"] == 0
        assert [e.response.value for e in rx.events] == ["DUH", "ACK", "ACK"]


def test_supervision_null_acked_then_path_down_when_unanswered(receiver):
    rx = receiver(None)
    d = _drive(rx.port, None, [], supervision_s=1, until_empty=False, until={"nulls": 2},
               run_ms=15000)
    st = d.ev("done", timeout=30)
    assert st["stats"]["nulls"] >= 2 and st["stats"]["failures"] == 0 and st["up"]
    # A listener that never answers: the NULL times out, the path is down.
    import socket
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(4)
    try:
        d = _drive(mute.getsockname()[1], None, [], supervision_s=1, answer_ms=500,
                   until_empty=False, until={"timeouts": 1}, run_ms=15000)
        st = d.ev("done", timeout=30)
        assert st["stats"]["timeouts"] == 1 and not st["up"]
        assert st["max_gap_ms"] < 200, st         # the answer is waited for without blocking
    finally:
        mute.close()


def test_an_unreachable_receiver_never_holds_the_loop_longer_than_a_connect_timeout():
    # A listener whose backlog is full drops new SYNs: the hub's connect gets
    # no answer and gives up after timeout_ms, again after each backoff, while
    # an alarm waits.
    import socket
    import time
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    fill = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(full.getsockname())
        except BlockingIOError:
            pass
        fill.append(c)
    time.sleep(0.2)
    try:
        d = _drive(full.getsockname()[1], None, [_sig(1)], timeout_ms=200, run_ms=4000,
                   until_empty=False)
        done = d.ev("done", timeout=30)
    finally:
        for c in fill + [full]:
            c.close()
    assert done["stats"]["failures"] >= 2 and done["outbox"] == [1], done
    assert done["stats"]["connects"] == 0, done
    print("\nlongest loop pass, receiver not answering the connect: %d ms" % done["max_gap_ms"])
    assert 150 <= done["max_gap_ms"] < 200 + 300, done      # the timeout (a loaded machine)
