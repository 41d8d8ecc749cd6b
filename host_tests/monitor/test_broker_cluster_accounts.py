"""`python -m monitor broker write --nodes 3 --accounts 2`
(monitor/broker_cluster.py): the hubs split over two NATS accounts, each with
its own replicated QoS 1 stream, and the monitor service in a third one
reading both. Three real nats-server nodes with TLS and a login per hub, the
real Receiver, signed signals from hubs of both accounts."""
import json
import os
import queue
import time

import pytest
from cluster_clients import Client
from desk_helpers import add_account, query
from waiting import until

from monitor import broker_cluster, cli
from monitor.broker_access import HA_USER
from monitor.receiver import Receiver, Settings
from monitor.web.hubview import HubView
from tools.nats_cluster import Cluster, free_base
from uplink import wire

HUBS = ("hub-a", "hub-b", "hub-c", "hub-d")


def _write(d, hubs, accounts, ports):
    port, service, route = ports
    argv = ["broker", "write", "--dir", d, "--nodes", "3", "--port", str(port),
            "--service-port", str(service), "--route-port", str(route),
            "--accounts", str(accounts)]
    for h in hubs:
        argv += ["--hub", h]
    assert cli.main(argv) == 0
    return broker_cluster.load(d, ["127.0.0.1"] * 3, port, service, route)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("cluster-accounts"))
    access = _write(d, HUBS, 2, (free_base(), free_base(), free_base()))
    c = Cluster(d + "/run", access=access).start()
    yield access, c
    c.stop()


def test_hubs_are_spread_evenly_and_keep_their_account():
    assert broker_cluster.assign(["a", "b", "c", "d", "e"], {}, 2) == \
        {"a": 1, "b": 2, "c": 1, "d": 2, "e": 1}
    # A hub keeps its account when others come, and when there are more accounts.
    before = {"a": 2, "b": 2, "c": 1}
    assert broker_cluster.assign(["a", "b", "c", "n"], before, 2) == \
        {"a": 2, "b": 2, "c": 1, "n": 1}
    assert broker_cluster.assign(["a", "b", "c", "n"], before, 3) == \
        {"a": 2, "b": 2, "c": 1, "n": 3}
    # An account that is no longer there: its hubs go to the emptiest ones.
    assert broker_cluster.assign(["a", "b", "c"], {"a": 3, "b": 3, "c": 1}, 2) == \
        {"a": 2, "b": 1, "c": 1}


def test_rewriting_with_a_new_hub_moves_no_hub(tmp_path):
    d = str(tmp_path)
    ports = (free_base(), free_base(), free_base())
    first = _write(d, HUBS, 2, ports).hub_accounts
    again = _write(d, ("hub-0",) + HUBS, 2, ports).hub_accounts
    assert {h: again[h] for h in HUBS} == first
    assert sorted(first.values()) == [1, 1, 2, 2]
    with open(os.path.join(d, "credentials.json")) as f:
        assert json.load(f)[broker_cluster.ACCOUNTS_KEY] == again
    conf = open(os.path.join(d, "nats-1.conf")).read()
    for k in (1, 2):
        assert "HUBS%d {" % k in conf
    # Accounts without a hub yet are written too: the next hubs go there.
    more = _write(d, HUBS, 4, ports)
    assert more.hub_accounts == first
    conf = open(os.path.join(d, "nats-1.conf")).read()
    assert "HUBS4 {" in conf and "HUBS5 {" not in conf
    assert '"%s"' % HA_USER not in conf


def test_accounts_are_refused_without_a_cluster(tmp_path, capsys):
    assert cli.main(["broker", "write", "--dir", str(tmp_path), "--hub", "hub-a",
                     "--accounts", "2"]) == 2
    assert "--accounts: only for a broker cluster" in capsys.readouterr().err
    assert cli.main(["broker", "write", "--dir", str(tmp_path), "--hub", "hub-a",
                     "--nodes", "3", "--accounts", "0"]) == 2
    assert "accounts: 1..64" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "nats-1.conf")


def _event(secret, hub, seq):
    sig = {"code": "E130", "event": 130, "qualifier": "E", "seq": seq, "zone": 1}
    return wire.event(secret, hub, int(time.time()), sig)


def test_the_monitor_stores_and_acks_the_hubs_of_every_account(written, tmp_path):
    access, c = written
    assert sorted(access.hub_accounts.values()) == [1, 1, 2, 2]
    db = str(tmp_path / "cases.db")
    secrets = {h: os.urandom(32) for h in HUBS}
    for hub, secret in secrets.items():
        add_account(db, hub, secret=secret, contacts=1, password=None)
    rx = Receiver(Settings(db=db, prefix="alarm", ring_s=3600, nats=tuple(
        n.nats_url for n in access.nodes), username="monitor",
        password=access.password("monitor"), tls_ca=access.ca)).start(timeout=30)
    hubs = {}
    try:
        for i, hub in enumerate(HUBS):
            # Each hub on a node of its own choosing, as its config lists them.
            cl = Client(access, access.nodes[i % 3].mqtt_port, hub,
                        subscribe=["alarm/%s/acks" % hub])
            assert cl.ready.wait(20) and cl.rc == 0 and cl.granted == [1], \
                (hub, cl.rc, cl.granted)
            hubs[hub] = cl
        acked = {}
        deadline = time.monotonic() + 40
        while len(acked) < len(hubs):
            # A hub resends until acked: the monitor's subscription reaches the
            # other nodes over the routes a moment after it is made.
            for hub, cl in hubs.items():
                if hub not in acked:
                    cl.c.publish("alarm/%s/events" % hub, _event(secrets[hub], hub, 1), qos=1)
            end = time.monotonic() + 1
            for hub, cl in hubs.items():
                while hub not in acked:
                    try:
                        topic, payload, _ = cl.got(max(0.01, end - time.monotonic()))
                    except queue.Empty:
                        break
                    seqs = wire.check_ack(wire.parse(payload), hub, secrets[hub])
                    assert topic == "alarm/%s/acks" % hub and seqs, (topic, payload)
                    acked[hub] = seqs
            assert time.monotonic() < deadline, ("not acked", sorted(set(hubs) - set(acked)))
        assert acked == {h: [1] for h in HUBS}
        rows = query(db, "SELECT hub, seq FROM signals ORDER BY hub")
        assert rows == [{"hub": h, "seq": 1} for h in HUBS]
        assert len(query(db, "SELECT id FROM cases")) == len(HUBS)
    finally:
        for cl in hubs.values():
            cl.close()
        rx.stop()
    # Each account got a QoS 1 stream of its own, led by one of the nodes.
    logs = "".join(c.log_text(i) for i in range(3))
    for k in (1, 2):
        assert "new stream leader for 'HUBS%d > $MQTT_msgs'" % k in logs


def test_a_hub_reaches_no_other_account_and_home_assistant_has_no_login(written):
    access, c = written
    mine = [h for h in HUBS if access.hub_accounts[h] == 1][0]
    other = [h for h in HUBS if access.hub_accounts[h] == 2][0]
    spy = Client(access, access.nodes[0].mqtt_port, mine,
                 subscribe=["alarm/%s/acks" % other, "alarm/%s/acks" % mine])
    assert spy.ready.wait(20) and spy.rc == 0
    assert spy.granted == [128, 1], spy.granted
    spy.close()
    # Its password is still in credentials.json (the single mosquitto's): refused.
    ha = Client(access, access.nodes[1].mqtt_port, HA_USER)
    assert ha.ready.wait(20) or ha.rc is not None
    assert ha.rc not in (None, 0), ha.rc
    ha.close()


def test_the_owners_app_view_reads_each_accounts_retained_state(written, tmp_path):
    access, c = written
    # What each hub published retained before anyone looked: it stays in the
    # hub's own account's stream, where a login of that account reads it.
    states = {"hub-a": "armed_away", "hub-b": "disarmed", "hub-c": "armed_home",
              "hub-d": "triggered"}
    for i, (hub, state) in enumerate(states.items()):
        cl = Client(access, access.nodes[i % 3].mqtt_port, hub)
        assert cl.ready.wait(20) and cl.rc == 0
        cl.c.publish("alarm/%s/state" % hub, state, qos=1, retain=True).wait_for_publish(10)
        cl.c.publish("alarm/%s/zone/front_door" % hub, "ON", qos=1,
                     retain=True).wait_for_publish(10)
        cl.close()
    password_file = access.path("credentials.json")
    args = cli.parser().parse_args([
        "run", "--db", str(tmp_path / "unused.db"), "--nats", access.nodes[0].nats_url,
        "--host", "127.0.0.1", "--port", str(access.nodes[2].mqtt_port), "--ca", access.ca,
        "--mqtt-user", "monitor", "--mqtt-password-file", password_file])
    s = cli.settings(args)
    assert s.app_logins == ("monitor@HUBS1", "monitor@HUBS2")
    view = HubView(s)
    try:
        view.start()
        # Each retained message comes on its own: the zones may follow the states.
        assert until(lambda: all(view.of(h)["state"] == st and view.of(h)["open"] == ["front door"]
                                 for h, st in states.items()), 30), \
            {h: view.of(h) for h in states}
    finally:
        view.stop()
    # The monitor's own login is in neither hub account: it alone sees none of it.
    alone = HubView(Settings(db=s.db, host=s.host, port=s.port, tls_ca=s.tls_ca,
                             username="monitor", password=s.password))
    try:
        alone.start()
        assert until(lambda: alone.clients[0].is_connected(), 20)
        time.sleep(2)
        assert all(alone.of(h)["state"] is None for h in states)
    finally:
        alone.stop()


def test_the_app_views_login_only_reads(written):
    access, c = written
    view = Client(access, access.nodes[0].mqtt_port, "monitor@HUBS1",
                  password=access.password("monitor"))
    assert view.ready.wait(20) and view.rc == 0
    watcher = Client(access, access.nodes[0].mqtt_port, "hub-a",
                     subscribe=["alarm/hub-a/commands"])
    assert watcher.ready.wait(20) and watcher.rc == 0 and watcher.granted == [1]
    view.c.publish("alarm/hub-a/commands", b"forged", qos=1)
    with pytest.raises(queue.Empty):
        watcher.got(3)
    view.close()
    watcher.close()
