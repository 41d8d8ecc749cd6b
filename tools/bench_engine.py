"""The service's own CPU per signal, without MQTT: signed routine signals
(test reports and stored-only signals from 100 hubs) put straight on a real
engine's queue (monitor/engine.py) and taken in batches of a given size,
the engine's thread CPU time read around it. The bench's flood and load
steps measure the worker as a whole, paho's thread and the machine's noise
included (the simulated hubs share its cores); this is the part the
service's code decides, at the batch sizes a busy worker meets: small under
a steady load, up to Settings.batch in a backlog."""
import os
import time

from monitor import calls
from monitor.clock import SYSTEM
from monitor.engine import Engine, Hooks
from monitor.items import Msg
from monitor.receiver import Settings
from monitor.store import Store
from uplink import wire

HUBS = 100
WARM = 500


def signals(secrets, n, prefix="bench"):
    """n signed routine signals round-robin over the hubs, each hub's seqs from 1."""
    names = sorted(secrets)
    seqs = dict.fromkeys(names, 0)
    out = []
    for i in range(n):
        hub = names[i % len(names)]
        seqs[hub] += 1
        code = "E602" if i % 2 else "R401"
        signal = {"code": code, "event": int(code[1:]), "qualifier": code[0],
                  "seq": seqs[hub], "zone": 0}
        # The payload as a hub makes it (the hub's own code), byte for byte.
        payload = wire.event(secrets[hub], hub, 1765000000 + i, signal, epoch=1)
        out.append(Msg("%s/%s/events" % (prefix, hub), payload, 0))
    return out


def cost(db, secrets, n, batch):
    """(CPU µs per signal on the engine's thread, acks it published), after
    WARM signals not counted. db holds the accounts of secrets."""
    msgs = signals(secrets, WARM + n)
    acks = []
    engine = Engine(Settings(db=db, prefix="bench", batch=batch), calls.OperatorConsole(),
                    SYSTEM, Hooks(), [], lambda topic, payload: acks.append(topic))
    engine.open()
    try:
        for m in msgs[:WARM]:
            engine.queue.put(m)
        while not engine.queue.empty():
            engine.once()
        del acks[:]
        start = time.thread_time()
        for m in msgs[WARM:]:
            engine.queue.put(m)
        while not engine.queue.empty():
            engine.once()
        took = time.thread_time() - start
    finally:
        engine.store.close()
    return took * 1e6 / n, len(acks)


def stored(db):
    store = Store(db)
    try:
        return store.one("SELECT COUNT(*) AS n FROM signals")["n"]
    finally:
        store.close()


def secrets_for(hubs=HUBS):
    return {"hub-%03d" % i: os.urandom(32) for i in range(hubs)}
