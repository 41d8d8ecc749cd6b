"""`python -m monitor broker write --nodes 3` (monitor/broker_cluster.py), and
three real nats-server nodes started from what it wrote: TLS, a login per hub
with only its own topics, the monitor's login on the NATS listener, Home
Assistant's retained discovery seen from another node."""
import asyncio
import json
import queue
import socket
import ssl
import threading
import time

import pytest
from cluster_clients import Client

from monitor import broker_cluster, cli
from tools.nats_cluster import Cluster, free_base

HUBS = ("hub-a", "hub-b")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("cluster-access"))
    port, service, route = free_base(), free_base(), free_base()
    argv = ["broker", "write", "--dir", d, "--nodes", "3", "--port", str(port),
            "--service-port", str(service), "--route-port", str(route)]
    for h in HUBS:
        argv += ["--hub", h]
    assert cli.main(argv) == 0
    access = broker_cluster.load(d, ["127.0.0.1"] * 3, port, service, route)
    c = Cluster(d + "/run", access=access).start()
    yield access, c
    c.stop()


def _monitor(access, url, filt, queue_group, then, timeout=15):
    """The monitor's NATS login over TLS: take one message from filt, then run then(nc)."""
    import nats

    async def run():
        nc = await nats.connect([url], user="monitor", password=access.password("monitor"),
                                tls=ssl.create_default_context(cafile=access.ca),
                                connect_timeout=5)
        sub = await nc.subscribe(filt, queue=queue_group)
        await nc.flush()
        then_result = await then(nc)
        msg = await sub.next_msg(timeout)
        await nc.close()
        return then_result, msg.subject, msg.data
    return asyncio.run(run())


def test_the_written_cluster_runs_with_tls_and_a_login_per_hub(written):
    access, c = written
    n1, n2, n3 = access.nodes
    hub = Client(access, n1.mqtt_port, "hub-a", subscribe=["alarm/hub-a/acks"])
    assert hub.ready.wait(15) and hub.rc == 0 and hub.granted == [1], (hub.rc, hub.granted)

    heard = threading.Event()

    def resend():
        # The monitor's subscription on node 3 reaches node 1 over the cluster
        # route some time after its flush; until then node 1 has no one to
        # send to. A hub resends until it is acked, and so does this one.
        while not heard.is_set():
            hub.c.publish("alarm/hub-a/events", b"ev-1", qos=1).wait_for_publish(10)
            heard.wait(0.5)

    async def publish_event(nc):
        # The hub publishes on node 1; the monitor reads on node 3 and acks.
        threading.Thread(target=resend, daemon=True).start()
        return None
    try:
        _, subj, data = _monitor(access, n3.nats_url, "alarm.*.events", "desk", publish_event)
    finally:
        heard.set()
    assert (subj, data) == ("alarm.hub-a.events", b"ev-1")

    async def ack(nc):
        await nc.publish("alarm.hub-a.acks", b"ack-1")
        await nc.flush()
    asyncio.run(_nats_do(access, n2.nats_url, ack))
    assert hub.got() == ("alarm/hub-a/acks", b"ack-1", False)
    hub.close()


async def _nats_do(access, url, fn):
    import nats
    nc = await nats.connect([url], user="monitor", password=access.password("monitor"),
                            tls=ssl.create_default_context(cafile=access.ca), connect_timeout=5)
    try:
        return await fn(nc)
    finally:
        await nc.close()


def test_a_hub_reads_and_writes_only_its_own_topics(written):
    access, c = written
    n1, n2, n3 = access.nodes
    spy = Client(access, n2.mqtt_port, "hub-a", subscribe=["alarm/hub-b/acks"])
    assert spy.ready.wait(15) and spy.rc == 0
    assert spy.granted == [128], spy.granted        # refused: hub-b's acks
    spy.close()
    got = []

    async def watch(nc):
        sub = await nc.subscribe("alarm.*.events")
        await nc.flush()
        forger = Client(access, n1.mqtt_port, "hub-a")
        assert forger.ready.wait(15) and forger.rc == 0
        # Until this subscription has reached node 1 over the cluster route,
        # node 1 drops what is sent there whatever the ACL says, and a forgery
        # would be "refused" for nothing: one of hub-a's own comes through first.
        import nats.errors
        deadline = time.monotonic() + 15
        while True:
            forger.c.publish("alarm/hub-a/events", b"probe", qos=1).wait_for_publish(10)
            try:
                if (await sub.next_msg(0.5)).data == b"probe":
                    break
            except nats.errors.TimeoutError:
                assert time.monotonic() < deadline, "node 1 never heard of node 3's subscriber"
        forger.c.publish("alarm/hub-b/events", b"forged", qos=1)
        forger.c.publish("alarm/hub-a/events", b"sentinel", qos=1)
        while True:
            msg = await sub.next_msg(10)
            if msg.data != b"probe":        # a late one of those sent before
                got.append(msg.data)
            if msg.data == b"sentinel":
                break
        forger.close()
    asyncio.run(_nats_do(access, n3.nats_url, watch))
    assert got == [b"sentinel"]


def test_wrong_password_and_plain_connections_are_refused(written):
    access, c = written
    n1 = access.nodes[0]
    bad = Client(access, n1.mqtt_port, "hub-a", password="not-the-password")
    assert bad.ready.wait(15) or bad.rc is not None
    assert bad.rc not in (None, 0), bad.rc
    bad.close()
    s = socket.create_connection(("127.0.0.1", n1.mqtt_port), timeout=5)
    s.sendall(b"\x10\x10\x00\x04MQTT\x04\x02\x00\x0a\x00\x04anon")
    s.settimeout(5)
    try:
        answer = s.recv(4)
    except OSError:
        answer = b""
    assert answer[:4] != b"\x20\x02\x00\x00"        # no plain MQTT on a TLS listener
    s.close()


def test_discovery_retained_on_one_node_is_seen_on_another(written):
    access, c = written
    n1, n2, n3 = access.nodes
    hub = Client(access, n1.mqtt_port, "hub-b")
    assert hub.ready.wait(15) and hub.rc == 0
    topic = "homeassistant/binary_sensor/hub-b/door/config"
    hub.c.publish(topic, json.dumps({"name": "door"}), qos=1, retain=True).wait_for_publish(10)
    hub.close()
    # Each node learns the retained messages from the replicated stream a
    # moment later: Home Assistant subscribing then gets it, as it does any
    # time after (the hub also publishes discovery again on every connect).
    deadline = time.monotonic() + 15
    while True:
        ha = Client(access, n3.mqtt_port, "homeassistant", subscribe=["homeassistant/#"])
        assert ha.ready.wait(15) and ha.rc == 0
        try:
            got = ha.got(1)
            break
        except queue.Empty:
            assert time.monotonic() < deadline, "no retained discovery on node 3"
        finally:
            ha.close()
    assert got == (topic, b'{"name": "door"}', True)


def test_the_cluster_grants_each_user_what_the_mosquitto_acl_grants():
    # One list of topics for both brokers: a topic the hub publishes (the
    # command answer, the mains sensor) allowed on mosquitto but not on the
    # cluster would be refused there, unseen in single-broker tests.
    from monitor import broker_access
    hubs = ["hub-a1", "hub-b2"]
    acl, user = {}, None
    for line in broker_access.acl_text(hubs).splitlines():
        if line.startswith("user "):
            user = line.split()[1]
            acl[user] = (set(), set())
        elif line.startswith("topic ") and "$share" not in line:
            _, access, t = line.split()
            acl[user][0 if access == "write" else 1].add(broker_cluster.subject(t))
    rights = broker_cluster.permissions(hubs)
    assert set(rights) == set(acl)
    for name, (pub, sub) in rights.items():
        assert (set(pub), set(sub)) == acl[name], name
