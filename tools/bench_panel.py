# Panel benchmark body; runs under the host micropython (and CPython).
#   micropython tools/bench_panel.py cost|heap|base [events]
# Prints one JSON line of figures. Uses only the MicroPython subset.
import sys
import gc
import json
import time

try:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
except AttributeError:   # CPython
    def ticks_us():
        return int(time.perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b


def config():
    zones = []
    for n in range(1, 33):
        kind = ("contact", "motion", "glass_break", "contact")[n % 4]
        z = {"number": n, "name": "zone_%02d" % n, "type": kind}
        if n <= 2:
            z["delayed"] = True
        elif kind == "motion" and n < 10:
            z["follower"] = True
        zones.append(z)
    users = [{"number": 1, "name": "master", "code": "1234", "role": "master"},
             {"number": 8, "name": "duress", "code": "9090", "role": "duress"}]
    for n in range(2, 8):
        users.append({"number": n, "name": "user_%d" % n, "code": "5%03d" % n})
    return {"abort_window": 0, "zones": zones, "users": users}


def scenario(p, events):
    # A long, busy life: arm, trips, alarms, disarms, troubles. Outputs are
    # drained after every input, as the hub loop does.
    t = 0
    n = 0
    while n < events:
        for k in "1234A":
            p.press(t, k)
            p.take()
        n += 5
        t += 61000
        p.tick(t)
        p.take()
        for z in range(3, 33):
            t += 1000
            p.zone(t, z, "open" if z % 4 else "motion")
            p.take()
            p.zone(t + 500, z, "close")
            p.take()
            n += 2
        for k in "1234C":
            p.press(t, k)
            p.take()
        t += 1000
        for z in range(1, 33):
            p.zone(t, z, "battery_low" if n % 2 else "battery_ok")
            p.take()
            p.zone(t, z, "checkin")
            p.take()
            n += 2
    return n


def noop(*args):
    pass


class Empty:
    # Same call shapes as the panel, doing nothing: the baseline.
    press = zone = tick = noop

    def take(self):
        return []


def main(what, events):
    import os
    from panel.config import Config
    from panel.panel import Panel
    if what == "base":
        # Imports only: the heap the panel's code itself needs.
        print(json.dumps({"ok": True}))
        return
    gc.collect()
    before = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
    p = Panel(Config(config(), os.urandom), 0)
    gc.collect()
    live = (gc.mem_alloc() - before) if before else 0
    if what == "heap":
        scenario(p, events)
        print(json.dumps({"ok": True, "live_after_start": live}))
        return
    # cost: zone events and ticks (no code entry), then code entries alone.
    t0 = ticks_us()
    scenario(Empty(), events)
    base_us = ticks_diff(ticks_us(), t0)
    t0 = ticks_us()
    n = scenario(p, events)
    panel_us = ticks_diff(ticks_us(), t0)
    t0 = ticks_us()
    for i in range(20):
        for k in "5007C":
            p.press(i, k)
        p.take()
    code_us = ticks_diff(ticks_us(), t0) / 20
    print(json.dumps({"events": n, "panel_us": panel_us, "base_us": base_us,
                      "code_entry_us": code_us, "live_after_start": live}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20000)
