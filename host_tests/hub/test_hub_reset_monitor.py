"""End to end through a real mosquitto: the real hub firmware (micropython) and
the monitoring service. A hub whose data was wiped starts its seqs again; its
next panic must still open a case, and the reset is a trouble case of its own."""
import json
import shutil

import pytest

from test_hub_process import CLOSED_LOOPS, DEMO, boot, demo_config
from tools.hubsim import HubSim
from waiting import until

from monitor import accounts
from monitor.store import Store

HUB = DEMO["hub_id"]
SECRET = bytes.fromhex(DEMO["secret"])
PREFIX = DEMO["mqtt"]["prefix"]


@pytest.fixture
def service(broker, tmp_path):
    from monitor.receiver import Receiver, Settings
    db = str(tmp_path / "monitor.db")
    store = Store(db)
    accounts.add(store, HUB, SECRET, [{"name": "Owner", "phone": "+1 555 0100"}])
    rx = Receiver(Settings(db=db, port=broker.port, prefix=PREFIX)).start()
    yield rx, store
    rx.stop()
    store.close()


def stored(store):
    return [(r["seq"], r["code"]) for r in store.q("SELECT seq, code FROM signals ORDER BY id")]


def cases(store):
    return [(r["plan"], r["trouble"]) for r in store.q("SELECT plan, trouble FROM cases")]


def test_a_wiped_hub_panics_and_a_case_opens(broker, service, tmp_path):
    rx, store = service
    workdir = str(tmp_path / "hub")
    sim = HubSim(workdir, demo_config(broker.port), speed=20, levels=CLOSED_LOOPS).start()
    try:
        boot(sim)
        sim.keys("1234B")
        sim.wait_for(lambda o: o.get("state") == "armed_home", timeout=15)
        sim.keys("1234C")
        sim.wait_for(lambda o: o.get("state") == "disarmed", timeout=15)
        assert until(lambda: len(stored(store)) == 3, timeout=20), stored(store)
    finally:
        sim.stop()
    shutil.rmtree(workdir + "/data")                    # a reflash wipes the hub's files
    sim = HubSim(workdir, demo_config(broker.port), speed=20, levels=CLOSED_LOOPS).start()
    try:
        boot(sim)
        sim.keys("D")
        panic = sim.wait_for(lambda o: o.get("signal", {}).get("code") == "E120")["signal"]
        assert panic["seq"] <= 3                        # a seq the monitor has stored before
        assert until(lambda: ("panic", None) in cases(store), timeout=20), \
            (stored(store), cases(store))
        assert ("trouble", "seq_reset") in cases(store)
        assert until(lambda: rx.counters().get("stored") == 5)   # E305 and E120, both new
        epochs = [json.loads(r["body"])["epoch"] for r in
                  store.q("SELECT body FROM signals ORDER BY id")]
        assert epochs[0] == epochs[2] != epochs[3] == epochs[4]   # a new epoch for the new life
    finally:
        sim.stop()
