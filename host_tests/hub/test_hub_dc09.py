"""End to end with both report paths on: the real hub firmware (micropython,
HubSim), a real mosquitto, and the monitoring service with its SIA DC-09
listener. When one path is down during an alarm, every signal reaches the
monitor over the other, once and in order; when it returns, that path's
resends are acked as duplicates and add no signal and no case."""
import json

import pytest

from test_hub_mqtt import Watcher, clear_retained
from test_hub_process import CLOSED_LOOPS, DEMO, boot, demo_config
from tools.hubsim import HubSim
from waiting import until

from monitor import accounts
from monitor.store import Store

HUB = DEMO["hub_id"]
SECRET = bytes.fromhex(DEMO["secret"])
PREFIX = DEMO["mqtt"]["prefix"]
ACCOUNT = "4F2A"
KEY = "0123456789ABCDEF0123456789abcdef"     # AES-256


@pytest.fixture
def rig(broker, tmp_path):
    from monitor.receiver import Receiver, Settings
    db = str(tmp_path / "monitor.db")
    store = Store(db)
    accounts.add(store, HUB, SECRET, [{"name": "Owner", "phone": "+1 555 0100"}],
                 dc09=ACCOUNT, dc09_secret=KEY)
    base = "%s/%s/" % (PREFIX, HUB)
    clear_retained(broker.port, [base + "status", base + "state", base + "availability"])
    rx = Receiver(Settings(db=db, port=broker.port, prefix=PREFIX, dc09_port=0)).start()
    made = []

    def hub():
        cfg = demo_config(broker.port)
        cfg["dc09"] = {"host": "127.0.0.1", "port": rx.dc09.port, "account": ACCOUNT,
                       "key": KEY, "supervision": 600}
        sim = HubSim(str(tmp_path / "hub"), cfg, speed=10, levels=CLOSED_LOOPS).start()
        made.append(sim)
        assert boot(sim).get("boot") == HUB, sim.lines
        return sim

    w = Watcher(broker.port, [base + "status"])
    yield rx, store, hub, w
    for sim in made:
        sim.stop()
    w.close()
    if not broker_up(broker):
        broker.start()          # the session's broker, for the tests after this one
    rx.stop()
    store.close()


def broker_up(broker):
    from tools.broker import port_open
    return port_open(broker.port)


def rows(store):
    """(seq, code, the paths that brought it, in any order) of each stored signal."""
    return [(r["seq"], r["code"], ",".join(sorted((r["paths"] or "").split(","))))
            for r in store.q("SELECT seq, code, paths FROM signals ORDER BY id")]


def burglar_cases(store):
    return len(store.q("SELECT id FROM cases WHERE plan = 'burglar'"))


def status(w):
    return json.loads(w.seen.get("%s/%s/status" % (PREFIX, HUB)) or b"{}")


def alarm(sim):
    """The garage loop is cut while armed Home, then the owner disarms."""
    sim.level(18, 1)
    sim.wait_for(lambda o: o.get("signal", {}).get("code") == "E130", timeout=30)
    sim.keys("1234C")
    sim.wait_for(lambda o: o.get("state") == "disarmed", timeout=15)
    sim.level(18, 0)


def alarm_seq(sim):
    """The burglary's seq: it and every signal after it were raised during the outage."""
    return [o["signal"]["seq"] for o in sim.lines if o.get("signal", {}).get("code") == "E130"][0]


def raised(sim):
    """The seqs of every signal the hub has raised so far (a restore may
    follow the disarm), in order."""
    return [o["signal"]["seq"] for o in sim.lines if "signal" in o]


def all_stored_once(sim, store):
    """Every signal the hub raised is stored, once each, in the order raised."""
    sent = raised(sim)
    return len(sent) > 2 and [r[0] for r in rows(store)] == sent


def armed_home_on_both_paths(sim, store):
    sim.keys("1234B")
    sim.wait_for(lambda o: o.get("state") == "armed_home", timeout=20)
    # E305 (restart), R401 (closing) and whatever arming raised, each stored
    # once and heard on both paths.
    assert until(lambda: [(s, p) for s, c, p in rows(store)] ==
                 [(s, "dc09,mqtt") for s in raised(sim)], timeout=40), rows(store)


def test_broker_down_during_an_alarm_every_signal_comes_by_dc09_once(rig, broker):
    rx, store, hub, w = rig
    sim = hub()
    armed_home_on_both_paths(sim, store)
    broker.stop()
    alarm(sim)
    assert until(lambda: all_stored_once(sim, store), timeout=40), (raised(sim), rows(store))
    sent = raised(sim)
    got = rows(store)
    assert [r[0] for r in got] == sorted(sent)                   # once each, in order
    assert {p for s, c, p in got if s >= alarm_seq(sim)} == {"dc09"}   # the broker was down
    assert "E130" in [c for s, c, p in got] and burglar_cases(store) == 1
    broker.start()
    # The MQTT link's resends reach the monitor, are acked as duplicates, and
    # the hub's outbox empties: both paths have acked every signal.
    assert until(lambda: {p for s, c, p in rows(store)} == {"dc09,mqtt"}, timeout=60), rows(store)
    # The status retained from before the outage said outbox 0 too: wait for
    # one that has the outage's signals acked by DC-09 as well.
    assert until(lambda: status(w).get("outbox") == 0 and status(w).get("link", {}).get(
        "dc09", {}).get("acked", 0) >= len(raised(sim)), timeout=60), status(w)
    sent = raised(sim)
    assert [r[0] for r in rows(store)] == sent and burglar_cases(store) == 1
    counts = rx.counters()
    assert "seq_reset" not in counts and counts["stored"] == len(sent)
    assert counts["dc09_stored"] >= len([q for q in sent if q >= alarm_seq(sim)])  # the outage's
    st = status(w)["link"]["dc09"]
    assert st["up"] and st["acked"] >= len(sent) and st["duh"] == 0, st


def test_receiver_down_during_an_alarm_every_signal_comes_by_mqtt_once(rig):
    rx, store, hub, w = rig
    sim = hub()
    armed_home_on_both_paths(sim, store)
    port = rx.dc09.port
    rx.dc09.stop()
    alarm(sim)
    assert until(lambda: all_stored_once(sim, store), timeout=40), (raised(sim), rows(store))
    got = rows(store)
    assert {p for s, c, p in got if s >= alarm_seq(sim)} == {"mqtt"}, got   # the receiver was down
    assert burglar_cases(store) == 1
    # The DC-09 path is down and says so; the hub keeps the signals for it.
    assert until(lambda: status(w).get("link", {}).get("dc09", {}).get("up") is False
                 and status(w).get("outbox", 0) > 0, timeout=40), status(w)
    from monitor.dc09.listener import Listener
    rx.dc09 = Listener(rx, "127.0.0.1", port).start()
    assert until(lambda: {p for s, c, p in rows(store)} == {"dc09,mqtt"}, timeout=60), rows(store)
    assert until(lambda: status(w).get("outbox") == 0, timeout=60), status(w)
    assert [r[0] for r in rows(store)] == raised(sim) and burglar_cases(store) == 1
    assert "seq_reset" not in rx.counters()


def board_image(tmp_path, paths, aes192=False, config=None):
    """The compiled board image `make deploy` puts on a hub reporting on
    `paths` (with a 24-character DC-09 key or not): the other path's files
    are not there, nor the software AES unless the key needs it."""
    import os
    from tools import mpy_build
    out = str(tmp_path / ("image-" + "-".join(paths or ["config"])))
    sizes = mpy_build.build(out)
    keep = mpy_build.image_of(sizes, config) if config else mpy_build.image(sizes, paths, aes192)
    for d, _, files in os.walk(out):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), out)[:-4] + ".py"
            if rel not in keep:
                os.remove(os.path.join(d, f))
    return out


def test_the_mqtt_only_image_boots_without_the_dc09_files(tmp_path):
    import os
    fw = board_image(tmp_path, ["mqtt"])
    assert not os.path.exists(os.path.join(fw, "uplink", "dc09_link.mpy"))
    sim = HubSim(str(tmp_path / "hub"), demo_config(), levels=CLOSED_LOOPS, firmware=fw).start()
    try:
        assert boot(sim).get("boot") == HUB, sim.lines
        sim.keys("1234B")
        sim.wait_for(lambda o: o.get("state") == "arming", timeout=15)
    finally:
        sim.stop()


@pytest.mark.parametrize("key", [KEY, "0123456789ABCDEF01234567"], ids=["aes256", "aes192"])
def test_a_dc09_object_with_dc09_switched_off_boots_from_its_image(tmp_path, key):
    # The receiver's settings kept while "paths" leaves DC-09 off: the image
    # deploy makes for that config has the settings reader and no DC-09 code.
    import os
    cfg = demo_config()
    cfg["dc09"] = {"host": "127.0.0.1", "port": 9, "account": ACCOUNT, "key": key,
                   "paths": ["mqtt"]}
    fw = board_image(tmp_path, None, config=cfg)
    assert os.path.exists(os.path.join(fw, "hub", "dc09.mpy"))
    assert not os.path.exists(os.path.join(fw, "uplink", "dc09_link.mpy"))
    assert os.path.exists(os.path.join(fw, "crypto", "aes_soft.mpy")) is (len(key) == 24)
    sim = HubSim(str(tmp_path / "hub"), cfg, levels=CLOSED_LOOPS, firmware=fw).start()
    try:
        assert boot(sim).get("boot") == HUB, sim.lines
        sim.keys("1234B")
        sim.wait_for(lambda o: o.get("state") == "arming", timeout=15)
    finally:
        sim.stop()


@pytest.mark.parametrize("key", [KEY, "0123456789ABCDEF01234567"], ids=["aes256", "aes192"])
def test_a_hub_reporting_by_dc09_only_needs_no_broker(tmp_path, key):
    # No broker at all: the hub's signals reach the monitor by DC-09 alone,
    # from the image deploy makes for it (no MQTT code on it). With a
    # 24-character key the image has the software AES, and the hub uses it.
    from monitor.receiver import Receiver, Settings
    from tools.broker import free_port
    db = str(tmp_path / "monitor.db")
    store = Store(db)
    accounts.add(store, HUB, SECRET, [{"name": "Owner", "phone": "+1 555 0100"}],
                 dc09=ACCOUNT, dc09_secret=key)
    rx = Receiver(Settings(db=db, port=free_port(), prefix=PREFIX, dc09_port=0)).start(
        timeout=1, need_broker=False)
    cfg = demo_config()
    del cfg["mqtt"]
    cfg["dc09"] = {"host": "127.0.0.1", "port": rx.dc09.port, "account": ACCOUNT, "key": key,
                   "paths": ["dc09"]}
    import os
    fw = board_image(tmp_path, ["dc09"], len(key) == 24)
    assert os.path.exists(os.path.join(fw, "crypto", "aes_soft.mpy")) is (len(key) == 24)
    sim = HubSim(str(tmp_path / "hub"), cfg, speed=10, levels=CLOSED_LOOPS, firmware=fw).start()
    try:
        assert boot(sim).get("boot") == HUB, sim.lines
        sim.keys("1234B")
        sim.wait_for(lambda o: o.get("state") == "armed_home", timeout=20)
        alarm(sim)
        assert until(lambda: all_stored_once(sim, store), timeout=60), (raised(sim), rows(store))
        assert {p for s, c, p in rows(store)} == {"dc09"} and burglar_cases(store) == 1
    finally:
        sim.stop()
        rx.stop()
        store.close()


def test_a_config_that_reports_by_mqtt_on_an_image_without_mqtt_code_is_a_trouble(tmp_path):
    # Deployed from the DC-09-only image but configured for both paths: the
    # hub still guards the house, and says it cannot report over MQTT (the
    # console, and an E350 trouble that DC-09 can still carry).
    import os
    cfg = demo_config()
    cfg["dc09"] = {"host": "127.0.0.1", "port": 9, "account": ACCOUNT, "key": KEY,
                   "paths": ["mqtt", "dc09"]}
    fw = board_image(tmp_path, ["dc09"])
    assert not os.path.exists(os.path.join(fw, "uplink", "link.mpy"))
    sim = HubSim(str(tmp_path / "hub"), cfg, levels=CLOSED_LOOPS, firmware=fw).start()
    try:
        trouble = sim.wait_for(lambda o: "trouble" in o or "boot" in o, timeout=15)
        assert trouble == {"trouble": "mqtt", "error": "no MQTT code on the board"}, sim.lines
        assert sim.wait_for(lambda o: "boot" in o, timeout=15)["boot"] == HUB
        sim.wait_for(lambda o: o.get("signal", {}).get("code") == "E350", timeout=15)
        signal = [s for s in sim.signals() if s["code"] == "E350"][0]
        assert signal["name"] == "mqtt" and signal["zone"] == 0
        sim.keys("1234B")
        sim.wait_for(lambda o: o.get("state") == "arming", timeout=15)
    finally:
        sim.stop()
