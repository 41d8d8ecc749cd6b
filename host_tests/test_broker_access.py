"""The broker an install runs (monitor.broker_access, the `secure_broker`
fixture: real mosquitto, real TLS): who may publish and read where.

A denied publish is silent in MQTT 3.1.1, so every "nothing arrived" waits for
a sentinel the same client publishes next on a topic it may write: the broker
keeps one client's messages in order, so once the sentinel is in, the denied
message would have been too."""
import json
import os
import queue
import stat
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest

from waiting import until

from monitor import broker_access
from tools import paths


class Client:
    """A paho client logged in as `user` (None: anonymous) over TLS."""

    def __init__(self, broker, user, subscribe=(), password=None, tls=True, client_id=None,
                 will=None, port=None):
        self.q = queue.Queue()
        self.got = []
        self.rc = None
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id=client_id or "t-%s-%d" % (user or "anon", id(self)),
                             protocol=mqtt.MQTTv311)
        if will:
            self.c.will_set(*will, qos=1, retain=True)
        if tls:
            self.c.tls_set(ca_certs=broker.access.ca)
        if user is not None:
            self.c.username_pw_set(user, password or broker.access.password(user))
        self.filters = list(subscribe)
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = self._on_message
        self.dropped = threading.Event()
        self.c.on_disconnect = lambda *a: self.dropped.set()
        self.c.connect("127.0.0.1", port or broker.port_for(user), keepalive=10)
        self.c.loop_start()

    def _on_connect(self, c, u, flags, rc, props=None):
        self.rc = rc
        if rc == 0 and self.filters:
            c.subscribe([(f, 1) for f in self.filters])
        elif rc == 0:
            self.ready.set()

    def _on_message(self, c, u, msg):
        self.got.append((msg.topic, msg.payload, msg.retain))
        self.q.put(msg.topic)

    def wait_ready(self, timeout=10):
        assert self.ready.wait(timeout), "not connected/subscribed (rc %s)" % self.rc
        return self

    def pub(self, topic, payload, retain=False, wait=True):
        info = self.c.publish(topic, payload, qos=1, retain=retain)
        if wait:
            info.wait_for_publish(10)

    def topics(self):
        return [t for t, _, _ in self.got]

    def wait_topic(self, topic, timeout=10):
        assert until(lambda: topic in self.topics(), timeout), (topic, self.topics())

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def clients(secure_broker):
    made = []

    def make(user, subscribe=(), **kw):
        c = Client(secure_broker, user, subscribe, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


A, B = "hub-test", "hub-b"


def test_anonymous_and_wrong_passwords_get_nothing(secure_broker, clients):
    anon = clients(None)
    assert until(lambda: anon.rc is not None, 10)
    assert anon.rc != 0 and "authori" in str(anon.rc).lower()
    wrong = clients(A, password="not-the-password")
    assert until(lambda: wrong.rc is not None, 10)
    assert wrong.rc != 0
    # And nothing without TLS: the port speaks only TLS.
    plain = clients(A, tls=False)
    assert plain.dropped.wait(10) and plain.rc is None     # dropped, never a CONNACK
    assert "not authorised" in secure_broker.log_text()


def test_a_hub_cannot_write_another_hubs_topics(secure_broker, clients):
    watch = clients("monitor", ["alarm/%s/#" % B, "alarm/%s/#" % A]).wait_ready()
    ha = clients("homeassistant", ["alarm/%s/#" % B]).wait_ready()
    a = clients(A).wait_ready()
    for leaf in ("availability", "state", "answer", "events", "status", "zone/front_door",
                 "acks", "commands"):
        a.pub("alarm/%s/%s" % (B, leaf), b"forged",
              retain=leaf in ("availability", "state", "answer"))
    a.pub("homeassistant/binary_sensor/%s/front_door/config" % B, b"{}", retain=True)
    a.pub("alarm/%s/status" % A, b"sentinel")                  # its own: allowed
    watch.wait_topic("alarm/%s/status" % A)
    assert not [t for t in watch.topics() if "/%s/" % B in t], watch.got
    assert not ha.got
    log = secure_broker.log_text()
    assert "Denied PUBLISH" in log and "'alarm/%s/availability'" % B in log


def test_a_hub_cannot_read_another_hubs_acks_or_commands(clients):
    a = clients(A, ["alarm/%s/acks" % B, "alarm/%s/commands" % B,
                    "alarm/%s/acks" % A, "alarm/%s/commands" % A]).wait_ready()
    mon = clients("monitor").wait_ready()
    ha = clients("homeassistant").wait_ready()
    mon.pub("alarm/%s/acks" % B, b'{"seqs":[1]}')
    ha.pub("alarm/%s/commands" % B, b'{"action":"DISARM","code":"1234"}')
    mon.pub("alarm/%s/acks" % A, b"sentinel")
    ha.pub("alarm/%s/commands" % A, b"sentinel")
    a.wait_topic("alarm/%s/acks" % A)
    a.wait_topic("alarm/%s/commands" % A)
    assert sorted(a.topics()) == ["alarm/%s/acks" % A, "alarm/%s/commands" % A]


def test_only_the_hub_writes_its_availability_state_and_events(secure_broker, clients):
    # The attack of issue 9: an outsider flipping availability opened trouble cases.
    watch = clients("monitor", ["alarm/%s/#" % A]).wait_ready()
    ha = clients("homeassistant").wait_ready()
    mon = clients("monitor").wait_ready()
    b = clients(B).wait_ready()
    for who in (ha, mon, b):
        for leaf in ("availability", "state", "events"):
            who.pub("alarm/%s/%s" % (A, leaf), b"online", retain=leaf != "events")
    a = clients(A).wait_ready()
    a.pub("alarm/%s/availability" % A, b"online", retain=True)
    sentinel = ("alarm/%s/availability" % A, b"online", False)
    assert until(lambda: sentinel in watch.got, 10), watch.got
    live = [m for m in watch.got if not m[2]]     # not what earlier tests left retained
    assert live == [sentinel], watch.got


def test_no_login_takes_over_a_hubs_client_id(secure_broker, clients, tmp_path):
    # issue 18: another hub's login or Home Assistant's, connecting with a hub's
    # client id, made mosquitto drop the real hub and publish its Last Will:
    # the monitor opened an "offline" trouble case for a hub that was online.
    from monitor import Receiver, Settings, accounts, case_store
    from monitor.store import Store
    db = str(tmp_path / "m.db")
    store = Store(db)
    accounts.add(store, A, bytes(16))
    store.close()
    avail = "alarm/%s/availability" % A
    rx = Receiver(Settings(db=db, port=secure_broker.port_for("monitor"),
                           tls_ca=secure_broker.access.ca, username="monitor",
                           password=secure_broker.access.password("monitor"))).start()
    try:
        watch = clients("monitor", [avail, "alarm/%s/status" % A]).wait_ready()
        # As the firmware connects (uplink/link.py): its hub id as client id, a Last Will.
        hub = clients(A, client_id=A, will=(avail, b"offline")).wait_ready()
        hub.pub(avail, b"online", retain=True)
        seen = Store(db)
        assert until(lambda: case_store.availability(seen, A) == "online", 10)
        ports = {secure_broker.port, secure_broker.port_for("monitor")}
        attackers = [clients(user, client_id=A, port=port)
                     for user in (B, "homeassistant") for port in sorted(ports)]
        assert until(lambda: all(a.rc is not None or a.dropped.is_set() for a in attackers),
                     10)
        hub.pub("alarm/%s/status" % A, b"sentinel")        # still connected, in order
        watch.wait_topic("alarm/%s/status" % A)
        assert hub.c.is_connected() and not hub.dropped.is_set()
        assert (avail, b"offline", False) not in watch.got, watch.got
        assert not case_store.open_cases(seen, A), case_store.open_cases(seen, A)
        seen.close()
    finally:
        rx.stop()


def test_no_retained_command_from_a_hub_and_no_megabyte_messages(secure_broker, clients):
    a = clients(A).wait_ready()
    a.pub("alarm/%s/commands" % A, b'{"action":"DISARM","code":"1234"}', retain=True)
    a.pub("alarm/%s/state" % A, b"x" * (2 * 1024 * 1024), retain=True, wait=False)   # too big
    assert until(lambda: not a.c.is_connected(), 10)    # the broker drops an oversize packet
    late = clients("homeassistant", ["alarm/%s/commands" % A, "alarm/%s/state" % A]).wait_ready()
    a2 = clients(A).wait_ready()
    a2.pub("alarm/%s/state" % A, b"disarmed", retain=False)
    assert until(lambda: ("alarm/%s/state" % A, b"disarmed", False) in late.got, 10), late.got
    # What earlier tests left retained may come first; never the hub's command, never 2 MB.
    assert not [m for m in late.got if m[0].endswith("/commands")], late.got
    assert all(len(payload) < broker_access.MAX_PACKET for _, payload, _ in late.got)


def test_the_service_users_have_what_they_need(clients):
    mon = clients("monitor", ["$share/workers/alarm/+/events", "alarm/+/availability"]) \
        .wait_ready()
    ha = clients("homeassistant", ["alarm/+/state", "alarm/+/zone/#", "homeassistant/#",
                                   "alarm/+/answer", "alarm/+/events"]).wait_ready()
    hub = clients(A, ["alarm/%s/acks" % A, "alarm/%s/commands" % A]).wait_ready()
    hub.pub("alarm/%s/events" % A, b"{}")
    hub.pub("alarm/%s/state" % A, b"armed_away")
    hub.pub("alarm/%s/zone/front_door" % A, b"ON")
    hub.pub("alarm/%s/answer" % A, b'{"refused": "wrong code"}')   # why HA's command failed
    hub.pub("homeassistant/alarm_control_panel/%s/panel/config" % A, b"{}")
    hub.pub("alarm/%s/availability" % A, b"online")
    mon.wait_topic("alarm/%s/events" % A)
    mon.wait_topic("alarm/%s/availability" % A)
    ha.wait_topic("homeassistant/alarm_control_panel/%s/panel/config" % A)
    assert "alarm/%s/zone/front_door" % A in ha.topics() and "alarm/%s/state" % A in ha.topics()
    assert "alarm/%s/answer" % A in ha.topics()
    assert "alarm/%s/events" % A not in ha.topics()       # HA does not read the signals
    mon.pub("alarm/%s/acks" % A, b"ack")
    ha.pub("alarm/%s/commands" % A, b"cmd")
    hub.wait_topic("alarm/%s/acks" % A)
    hub.wait_topic("alarm/%s/commands" % A)


@pytest.fixture
def passwd_tool():
    """mosquitto_passwd, installed if missing: the tests may install it, the
    operator's command does not (see the next tests)."""
    from tools import debian
    return debian.ensure("mosquitto_passwd", "mosquitto")


def test_without_mosquitto_passwd_the_command_says_what_to_install(tmp_path, monkeypatch,
                                                                   capsys):
    from monitor import cli
    monkeypatch.chdir(tmp_path)                           # no monitor.db here
    monkeypatch.setenv("PATH", str(tmp_path))             # nothing to run there
    monkeypatch.setattr(broker_access, "PASSWD_DIRS", (str(tmp_path),))
    assert cli.main(["broker", "write", "--dir", str(tmp_path / "broker"),
                     "--hub", "hub-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mosquitto_passwd not found" in err \
        and "apt-get install mosquitto" in err, err


def test_the_tool_hashes_passwords_and_keeps_them_across_runs(tmp_path, passwd_tool):
    d = str(tmp_path / "access")
    first = broker_access.write(d, ["hub-1"])
    passwd = open(os.path.join(d, "passwd")).read()
    service = open(os.path.join(d, "service.passwd")).read()
    # The monitor logs in only on its own listener, the others only on the devices'.
    assert "monitor:" in service and "monitor:" not in passwd and "hub-1:" not in service
    passwd += service
    for pw in [first.credentials["monitor"], first.credentials["homeassistant"],
               first.credentials["hubs"]["hub-1"]]:
        assert len(pw) >= 16 and pw not in passwd
    assert passwd.count("$7$") == 3                      # mosquitto's PBKDF2-SHA512
    for private in ("credentials.json", "ca.key", "server.key", "passwd", "service.passwd"):
        assert stat.S_IMODE(os.stat(os.path.join(d, private)).st_mode) == 0o600, private
    ca_before = open(first.ca).read()
    again = broker_access.write(d, ["hub-1", "hub-2"])
    assert again.credentials["hubs"]["hub-1"] == first.credentials["hubs"]["hub-1"]
    assert again.credentials["monitor"] == first.credentials["monitor"]
    assert open(again.ca).read() == ca_before            # hubs keep trusting the same CA
    acl = open(os.path.join(d, "acl")).read()
    assert acl.index("user ") < acl.index("topic ")      # no rule at all for anonymous
    assert "topic write alarm/hub-2/events" in acl and "topic read alarm/hub-2/acks" in acl
    with pytest.raises(broker_access.AccessError):
        broker_access.write(d, ["monitor"])                # a hub may not be a service user
    with pytest.raises(broker_access.AccessError):
        broker_access.write(d, ["a/#"])


def test_the_cli_writes_for_every_account_and_prints_no_password(tmp_path, passwd_tool):
    from monitor import accounts
    from monitor.store import Store
    db = str(tmp_path / "m.db")
    store = Store(db)
    accounts.add(store, "hub-x", bytes(16))
    store.close()
    d = str(tmp_path / "broker")
    done = subprocess.run([sys.executable, "-m", "monitor", "broker", "write", "--dir", d,
                           "--db", db, "--name", "broker.lan", "--port", "8883"],
                          capture_output=True, text=True, cwd=paths.ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    creds = json.load(open(os.path.join(d, "credentials.json")))
    assert set(creds["hubs"]) == {"hub-x"}
    for pw in [creds["monitor"], creds["homeassistant"], creds["hubs"]["hub-x"]]:
        assert pw not in done.stdout + done.stderr
    assert os.path.join(d, "ca.crt") in done.stdout and "credentials.json" in done.stdout
    conf = open(os.path.join(d, "mosquitto.conf")).read()
    assert "listener 8883" in conf and "listener 8884" in conf and "allow_anonymous false" in conf
    assert "port 8884: the monitor" in done.stdout


def test_the_monitor_runs_with_its_own_login_over_tls(secure_broker, tmp_path, clients):
    db = str(tmp_path / "m.db")
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--db", db,
                             "--port", str(secure_broker.port_for("monitor")),
                             "--ca", secure_broker.access.ca,
                             "--mqtt-user", "monitor", "--mqtt-password-file",
                             secure_broker.access.path("credentials.json")],
                            cwd=paths.ROOT, stderr=subprocess.PIPE, text=True)
    try:
        # It says what it is missing (no console) before it says it is subscribed.
        line = ""
        for _ in range(5):
            line += proc.stderr.readline()
            if "subscribed on" in line:
                break
        assert "subscribed on 127.0.0.1:%d (TLS)" % secure_broker.port_for("monitor") in line, \
            line
        # It reads availability as the monitor user: the broker logs the
        # delivery of a hub's "online" to it.
        hub = clients(A).wait_ready()
        hub.pub("alarm/%s/availability" % A, b"online")
        mine = "Sending PUBLISH to monitor-%d-" % proc.pid     # the receiver's client id
        assert until(lambda: mine in secure_broker.log_text(), 10)
    finally:
        proc.terminate()
        err = proc.communicate(timeout=30)[1]
    assert secure_broker.access.password("monitor") not in line + err


def test_a_burst_past_mosquittos_default_queue_reaches_a_monitor_that_is_behind(clients):
    # After a power cut an area's hubs report at once. mosquitto's default
    # keeps 1,000 QoS 1 messages for a client that is behind and drops the
    # rest (their hubs would resend only after 30 s); the install's broker keeps them.
    n = 1500
    mon = clients("monitor", ["alarm/+/events"]).wait_ready()
    mon.c.loop_stop()               # behind: it takes nothing until the burst is in
    hub = clients(A).wait_ready()
    sent = [b"burst-%d" % i for i in range(n)]
    for info in [hub.c.publish("alarm/%s/events" % A, p, qos=1) for p in sent]:
        info.wait_for_publish(10)
    mon.c.loop_start()
    got = lambda: [p for _, p, _ in mon.got if p.startswith(b"burst-")]   # noqa: E731
    assert until(lambda: len(got()) >= n, 20), len(got())
    assert got() == sent
