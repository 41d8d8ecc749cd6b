# TLS cost body; runs under the host micropython on the compiled .mpy files:
#   micropython bench_tls_mp.py plain|tls   (BENCH_TLS_CFG='<json>' in the environment)
# Connects the hub's real link (uplink/link.py, and uplink/tls.py for tls) to a
# private mosquitto `n` times, each time publishing one signal and waiting for
# its PUBACK, and prints one JSON line: connect times, heap live while
# connected beside the heap before the first connect.
import gc
import json
import os
import time


def main(mode):
    cfg = json.loads(os.getenv("BENCH_TLS_CFG"))
    from uplink.outbox import Outbox, MemStore
    from uplink.link import Link
    from umqtt import simple  # noqa: F401
    tls = None
    if mode == "tls":
        from uplink.tls import Tls
        import ssl  # noqa: F401
        tls = Tls(cfg["ca"], "127.0.0.1")
    box = Outbox(MemStore())
    link = Link(box, cfg["hub"], b"\x00" * 32, "127.0.0.1", cfg["port"], user=cfg.get("user"),
                password=cfg.get("password"), tls=tls, backoff_min_ms=10, backoff_max_ms=50)
    gc.collect()
    before = gc.mem_alloc()
    times = []
    live = 0
    for i in range(cfg["n"]):
        box.put({"code": "E602", "event": 602, "qualifier": "E", "seq": i + 1, "zone": 0}, 0)
        t0 = time.ticks_us()
        while not link.connected:
            link.poll(time.ticks_ms())
            if time.ticks_diff(time.ticks_us(), t0) > 10000000:
                print(json.dumps({"ok": False, "error": repr(link.last_error)}))
                return
        times.append(time.ticks_diff(time.ticks_us(), t0))
        link.poll(time.ticks_ms())          # publishes the signal, waits for its PUBACK
        gc.collect()
        live = max(live, gc.mem_alloc() - before)
        link.close()
        box.ack([i + 1])
    gc.collect()
    print(json.dumps({"ok": True, "connect_us": times, "live_connected": live,
                      "after_close": gc.mem_alloc() - before}))


import sys  # noqa: E402
main(sys.argv[1])
