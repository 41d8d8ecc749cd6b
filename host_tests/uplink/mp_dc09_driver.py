# Runs the hub's DC-09 path (uplink/dc09_link.py) under the host micropython
# against a real receiver (pysiaalarm's TCP server, or our monitor's).
#   UPLINK_DRIVER_CFG='<json config>' micropython mp_dc09_driver.py
# Queues cfg["signals"] (signal dicts as the panel makes them), polls the path
# in a loop like the hub's, and prints JSON lines: "start", "stats" whenever a
# counter changed, "done" at the end (stats, outbox left, the longest loop gap).
import os
import json
import time

from uplink.outbox import Outbox, MemStore
from uplink.dc09_link import Dc09
from uplink import dc09_cbc


def out(**kw):
    print(json.dumps(kw))


def main():
    cfg = json.loads(os.getenv("UPLINK_DRIVER_CFG"))
    paths = tuple(cfg.get("paths", ["dc09"]))
    if len(paths) > 1:
        from uplink.outbox_paths import PathsOutbox
        box = PathsOutbox(MemStore(), capacity=256, paths=paths)
    else:
        box = Outbox(MemStore(), capacity=256)
    box.epoch = cfg.get("epoch", 4242)
    skew = cfg.get("skew_s", 0)      # the hub's clock this far off the real time
    key = cfg.get("key")
    link = Dc09(box, cfg.get("host", "127.0.0.1"), cfg["port"], cfg["account"],
                key=dc09_cbc.check_key(key) if key else None, receiver=cfg.get("receiver"),
                line=cfg.get("line", "0"), clock=lambda: int(time.time()) + skew,
                supervision_s=cfg.get("supervision_s", 600), timeout_ms=cfg.get("timeout_ms", 200),
                answer_ms=cfg.get("answer_ms", 3000), backoff_min_ms=cfg.get("backoff_min_ms", 100),
                backoff_max_ms=cfg.get("backoff_max_ms", 1000), duh_ms=cfg.get("duh_ms", 600000))
    for sig in cfg.get("signals", []):
        box.put(sig, int(time.time()))
    run_ms = cfg.get("run_ms", 20000)
    until_empty = cfg.get("until_empty", True)
    until = cfg.get("until")            # {"stat": N}: stop once the counter reaches N
    start = last = time.ticks_ms()
    max_gap = 0
    seen = None
    out(ev="start")
    while True:
        now = time.ticks_ms()
        gap = time.ticks_diff(now, last)
        if gap > max_gap:
            max_gap = gap
        last = now
        link.poll(now & 0x3FFFFFFF)
        st = json.dumps(link.stats)
        if st != seen:
            seen = st
            out(ev="stats", stats=link.stats, outbox=box.seqs(), up=link.stats["up"])
        elapsed = time.ticks_diff(now, start)
        if until_empty and not len(box) or elapsed >= run_ms:
            break
        if until and all(link.stats.get(k, 0) >= v for k, v in until.items()):
            break
        time.sleep_ms(cfg.get("loop_ms", 5))
    link.close()
    out(ev="done", stats=link.stats, outbox=box.seqs(), max_gap_ms=max_gap, offset=link.offset,
        up=link.stats["up"])


main()
