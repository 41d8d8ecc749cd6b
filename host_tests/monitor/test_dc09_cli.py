"""`python -m monitor` for DC-09: an account's DC-09 account number and key
(the key never in argv, never printed), and `run --dc09-port` receiving."""
import json
import os
import re
import subprocess
import sys

from dc09_panel import KEYS, Link, answer_of, contact_id
from desk_helpers import SECRET, query
from tools import paths

VERBAL = {"MONITOR_VERBAL_PASSWORD": "blue heron"}


def monitor_cli(*args, env=None):
    env = {k: v for k, v in dict(os.environ, **(env or {})).items()
           if k != "MONITOR_DC09_KEY" or (env and k in env)}
    return subprocess.run([sys.executable, "-m", "monitor"] + list(args), cwd=paths.ROOT,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          env=env)


def add(db, hub, *args, env=None):
    return monitor_cli("account", "add", hub, "--secret", SECRET.hex(), "--db", db, *args,
                       env=dict(VERBAL, **(env or {})))


def test_the_dc09_account_and_key_from_a_file_or_the_environment(db, tmp_path):
    key = tmp_path / "dc09.key"
    key.write_text(KEYS[16] + "\n")
    done = add(db, "hub-1", "--dc09-account", "12ab", "--dc09-key-file", str(key))
    assert done.returncode == 0, done.stderr
    assert KEYS[16] not in done.stdout
    shown = monitor_cli("account", "show", "hub-1", "--db", db)
    assert json.loads(shown.stdout)["dc09_account"] == "12AB"
    assert json.loads(shown.stdout)["dc09_encrypted"] is True
    assert KEYS[16] not in shown.stdout
    done = add(db, "hub-2", "--dc09-account", "555", env={"MONITOR_DC09_KEY": KEYS[32]})
    assert done.returncode == 0, done.stderr
    done = add(db, "hub-3", "--dc09-account", "777")     # no key anywhere: unencrypted
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dc09_encrypted"] is False
    rows = query(db, "SELECT hub, dc09_account, dc09_key FROM accounts ORDER BY hub")
    assert [tuple(r.values()) for r in rows] == [
        ("hub-1", "12AB", KEYS[16]), ("hub-2", "555", KEYS[32]), ("hub-3", "777", None)]
    # edit: a new key for hub-3 (as typed: its case is part of the key)
    done = monitor_cli("account", "edit", "hub-3", "--db", db,
                       env={"MONITOR_DC09_KEY": KEYS[24]})
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT dc09_key FROM accounts WHERE hub = 'hub-3'")[0]["dc09_key"] == \
        KEYS[24]
    done = monitor_cli("account", "edit", "hub-1", "--no-dc09", "--db", db)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dc09_account"] is None
    assert query(db, "SELECT dc09_key FROM accounts WHERE hub = 'hub-1'")[0]["dc09_key"] is None
    done = add(db, "hub-4", "--dc09-account", "12AB")        # the number is free again
    assert done.returncode == 0, done.stderr


def test_bad_dc09_settings_are_refused_in_one_line(db, tmp_path):
    done = add(db, "hub-1", "--dc09-key", KEYS[16], "--dc09-account", "12AB")
    assert done.returncode == 2 and "would show the key" in done.stderr
    assert KEYS[16] not in done.stderr
    for account in ("12", "XYZ", "-12", "0x12", "1" * 17):
        done = add(db, "hub-1", "--dc09-account", account)
        assert done.returncode == 2 and "3 to 16 hex digits" in done.stderr, account
    bad = tmp_path / "bad.key"
    bad.write_text("not a key at all\n")
    done = add(db, "hub-1", "--dc09-account", "12AB", "--dc09-key-file", str(bad))
    assert done.returncode == 2 and "16, 24 or 32 hex" in done.stderr
    assert "not a key" not in done.stderr                  # a key, even a bad one, is not echoed
    done = add(db, "hub-1", env={"MONITOR_DC09_KEY": KEYS[16]})
    assert done.returncode == 2 and "needs the DC-09 account" in done.stderr
    assert monitor_cli("account", "list", "--db", db).stdout == ""      # nothing was created
    assert add(db, "hub-1", "--dc09-account", "12AB").returncode == 0
    done = add(db, "hub-2", "--dc09-account", "12ab")
    assert done.returncode == 2 and "already hub-1's" in done.stderr
    assert add(db, "hub-2").returncode == 0
    done = monitor_cli("account", "edit", "hub-2", "--dc09-account", "12AB", "--db", db)
    assert done.returncode == 2 and "already hub-1's" in done.stderr


def test_run_with_a_dc09_port_receives_and_acks(db, service):
    assert add(db, "hub-1", "--dc09-account", "12AB",
               env={"MONITOR_DC09_KEY": KEYS[16]}).returncode == 0
    s = service("--dc09-port", "0")
    port = int(re.search(r"DC-09 on 127\.0\.0\.1:(\d+)", "".join(s.err)).group(1))
    link = Link(port)
    got = link.ask(contact_id("12AB", 77, 1, "E", 110, 2, key=KEYS[16]))
    assert answer_of(got, "12AB", KEYS[16])[:2] == ("ACK", "0001")
    opened = s.lines.wait(step="open")
    assert opened["hub"] == "hub-1" and opened["code"] == "E110" and opened["via"] == "dc09"
    link.close()


def test_run_with_dc09_starts_without_the_broker_and_takes_mqtt_when_it_comes(db, tmp_path):
    """A service restarted during a broker outage is not blind: DC-09 works at
    once, and MQTT joins when the broker is back."""
    import threading
    import time
    from tools.hubs import Hubs
    from tools.broker import Broker, free_port
    from waiting import until
    assert add(db, "hub-1", "--dc09-account", "12AB").returncode == 0
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--db", db, "--port",
                             str(port), "--prefix", "late", "--dc09-port", "0", "--jsonl"],
                            cwd=paths.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    err, out = [], []
    threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
    threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True).start()
    broker = h = None
    try:
        assert until(lambda: re.search(r"DC-09 on 127\.0\.0\.1:(\d+)", "".join(err)),
                     timeout=20), err
        said = "".join(err)
        assert "no MQTT broker" in said and "receiving by DC-09 meanwhile" in said
        link = Link(int(re.search(r"DC-09 on 127\.0\.0\.1:(\d+)", said).group(1)))
        assert answer_of(link.ask(contact_id("12AB", 3, 1, "E", 130, 4)))[:2] == ("ACK", "0001")
        assert until(lambda: any('"step": "open"' in l for l in out))
        broker = Broker(str(tmp_path / "mosquitto"), port=port).start()
        h = Hubs(port, "late", {"hub-1": SECRET})
        from uplink import wire
        payload = wire.event(SECRET, "hub-1", int(time.time()),
                             {"code": "E134", "event": 134, "qualifier": "E", "seq": 2,
                              "zone": 1}, 3)
        last = [0.0]

        def acked():
            if time.monotonic() - last[0] > 0.5:      # resent until acked, as a hub does
                last[0] = time.monotonic()
                h.publish("hub-1", "events", payload)
            return ("hub-1", 2) in h.acked
        assert until(acked, timeout=30), "".join(err)
        link.close()
    finally:
        proc.terminate()
        proc.wait(10)
        if h:
            h.close()
        if broker:
            broker.stop()


def test_a_dc09_port_in_use_is_said_in_one_line(db):
    import socket
    from tools.broker import free_port
    assert add(db, "hub-1", "--dc09-account", "12AB").returncode == 0
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        done = monitor_cli("run", "--db", db, "--port", str(free_port()), "--dc09-port",
                           str(port))
    finally:
        taken.close()
    assert done.returncode == 2, done.stderr
    assert "error: DC-09 listener on 127.0.0.1:%d" % port in done.stderr
    assert "Traceback" not in done.stderr


def test_two_workers_one_by_dc09_one_by_mqtt_store_each_signal_once(db, service, broker, prefix):
    """Scale-out: the same signals reach one worker by DC-09 and another by
    MQTT at the same moment; the store keeps each once, with both paths."""
    import threading
    import time
    from tools.hubs import Hubs
    from uplink import wire
    from waiting import until
    assert add(db, "hub-1", "--dc09-account", "12AB",
               env={"MONITOR_DC09_KEY": KEYS[32]}).returncode == 0
    a = service("--share", "g", "--dc09-port", "0")
    service("--share", "g")
    port = int(re.search(r"DC-09 on 127\.0\.0\.1:(\d+)", "".join(a.err)).group(1))
    h = Hubs(broker.port, prefix, {"hub-1": SECRET})
    link = Link(port)
    n = 40
    payloads = {seq: wire.event(SECRET, "hub-1", int(time.time()),
                                {"code": "R401" if seq % 2 else "E401", "event": 401,
                                 "qualifier": "R" if seq % 2 else "E", "seq": seq, "user": 1},
                                9) for seq in range(1, n + 1)}
    try:
        for seq in range(1, n + 1):
            sender = threading.Thread(target=h.publish, args=("hub-1", "events", payloads[seq]))
            sender.start()
            got = link.ask(contact_id("12AB", 9, seq, "R" if seq % 2 else "E", 401, 1,
                                      key=KEYS[32]))
            sender.join()
            assert answer_of(got, "12AB", KEYS[32])[:2] == ("ACK", "%04d" % seq)
        assert until(lambda: all(("hub-1", s) in h.acked for s in payloads), timeout=20)
        rows = query(db, "SELECT seq, paths FROM signals ORDER BY seq")
        assert [r["seq"] for r in rows] == list(range(1, n + 1))
        assert {r["paths"] for r in rows} <= {"mqtt,dc09", "dc09,mqtt"}
        counts = query(db, "SELECT name, n FROM counters")
        counts = {c["name"]: c["n"] for c in counts}
        assert counts["stored"] == n and "seq_reset" not in counts
    finally:
        link.close()
        h.close()
