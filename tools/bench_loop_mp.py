# Loop-cost body; runs under a micropython on the hub's firmware with the board
# shims:  micropython bench_loop_mp.py DIR PASSES   (DIR holds config.json and
# board.json; its mqtt names a local mosquitto). Builds the hub as boot does
# (32 BLE sensors, so ~100 retained topics: zones and discovery), lets the link
# connect and send everything retained, then times hub.step() for PASSES
# passes with the link connected and PASSES more with it down (backing off),
# hub time moving 10 ms a pass as the loop's would. One JSON line: per-pass
# microseconds (median, mean) for each.
import gc
import json
import sys
import time


def _passes(h, now, n):
    us = []
    for _ in range(n):
        now += 10
        t0 = time.ticks_us()
        h.step(now)
        us.append(time.ticks_diff(time.ticks_us(), t0))
    us.sort()
    return now, {"median_us": us[len(us) // 2], "mean_us": sum(us) / len(us),
                 "p90_us": us[len(us) * 9 // 10]}


def main(root, n):
    import machine
    from hub import boot
    from panel import ticks
    h, s, b = boot.build(root + "/", machine)
    h.log = lambda now, o: None
    s = b = None
    link = h.link
    now = time.ticks_ms() & 0x3FFFFFFF
    t0 = time.ticks_ms()
    while not (link.connected and len(link._retained_sent) == len(link.retained)):
        now = time.ticks_ms() & 0x3FFFFFFF
        h.step(now)
        time.sleep_ms(1)
        if time.ticks_diff(time.ticks_ms(), t0) > 20000:
            print(json.dumps({"ok": False, "error": repr(link.last_error)}))
            return
    for _ in range(50):        # the broker's answers to the burst are read
        now += 10
        h.step(now)
    gc.collect()
    reads = link.reads
    now, up = _passes(h, now, n)
    up["reads"] = link.reads - reads     # check_msg calls while nothing came in
    up["connected"] = link.connected
    up["retained"] = len(link.retained)
    link.close()
    # Down, as after the broker went away: the next try is the backoff away.
    link.failures = 8
    link.next_try = ticks.add(now, 60000)
    now, down = _passes(h, now, n)
    print(json.dumps({"ok": True, "connected": up, "down": down}))


main(sys.argv[1], int(sys.argv[2]))
