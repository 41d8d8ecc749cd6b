# Runs the hub's uplink under the host micropython against a real broker.
#   UPLINK_DRIVER_CFG='<json config>' micropython mp_uplink_driver.py
# (config in the environment: the pip-packaged host micropython crashes with
# "FATAL: uncaught NLR" when its argv is longer than about 256 bytes.)
# Queues `n` signals (all at once, or one every `every_ms`), polls the link in a
# loop like the hub's main loop, and prints JSON lines of what happened.
import os
import json
import time
import binascii

from uplink.outbox import Outbox, MemStore
from uplink.link import Link
from uplink.clock import Clock

KINDS = (("E", 130, "zone"), ("R", 401, "user"), ("E", 384, "zone"), ("E", 120, "user"))


def out(**kw):
    print(json.dumps(kw))


def signal(seq):
    q, event, who = KINDS[seq % len(KINDS)]
    sig = {"code": "%s%03d" % (q, event), "event": event, "qualifier": q, "seq": seq,
           "name": "front_door" if who == "zone" else "user 01"}
    sig[who] = 1
    return sig


def main():
    cfg = json.loads(os.getenv("UPLINK_DRIVER_CFG"))
    commands = []

    def on_command(cmd):
        commands.append(cmd)
        out(ev="command", cmd=cmd)

    box = Outbox(MemStore(), capacity=cfg.get("capacity", 256))
    tls = None
    if cfg.get("ca"):
        from uplink.tls import Tls
        # "name": the broker's name as the hub's config has it, when DNS sent
        # it elsewhere (the TCP connect always goes to "host").
        tls = Tls(cfg["ca"], cfg.get("name") or cfg.get("host", "127.0.0.1"),
                  handshake_ms=cfg.get("handshake_ms", 2000))
    # Plain micropython's time() is the host's Unix time: a hub whose clock was
    # set (by an earlier ack) unless the test says the clock is unset.
    wall = Clock(rtc=(lambda: int(time.time())) if cfg.get("clock_set", True) else (lambda: 0))
    if cfg.get("clock_set", True):
        wall.adopt(int(time.time()), "test")
    link = Link(box, cfg["hub"], binascii.unhexlify(cfg["secret"]), cfg.get("host", "127.0.0.1"),
                cfg["port"], user=cfg.get("user"), password=cfg.get("password"), tls=tls,
                prefix=cfg["prefix"], keepalive_s=cfg.get("keepalive", 10),
                timeout_ms=cfg.get("timeout_ms", 200),
                backoff_min_ms=cfg.get("backoff_min_ms", 100),
                backoff_max_ms=cfg.get("backoff_max_ms", 1000),
                per_poll=cfg.get("per_poll", 4), resend_ms=cfg.get("resend_ms", 1000),
                on_command=on_command, clock=wall)
    link.state = "disarmed"
    n = cfg.get("n", 0)
    every = cfg.get("every_ms", 0)
    run_ms = cfg.get("run_ms", 20000)
    loop_ms = cfg.get("loop_ms", 5)
    until_empty = cfg.get("until_empty", False)
    start = time.ticks_ms()
    queued = 0
    last = start
    max_gap = 0
    iterations = 0
    was_up = False
    last_len = -1
    first_empty = None
    out(ev="start")
    while True:
        now = time.ticks_ms()
        gap = time.ticks_diff(now, last)
        if iterations and gap > max_gap:
            max_gap = gap
        last = now
        iterations += 1
        elapsed = time.ticks_diff(now, start)
        while queued < n and (every == 0 or elapsed >= queued * every):
            queued += 1
            box.put(signal(queued), int(time.time()))
        link.poll(now)
        if link.connected != was_up:
            was_up = link.connected
            if was_up:
                out(ev="up", t=elapsed, connects=link.stats["connects"])
            else:
                out(ev="down", t=elapsed, err=repr(link.last_error),
                    tls_error=link.stats.get("tls_error"))
        if len(box) != last_len:
            last_len = len(box)
            out(ev="outbox", len=last_len, t=elapsed)
        if queued == n and len(box) == 0 and first_empty is None:
            first_empty = elapsed
        if (until_empty and first_empty is not None) or elapsed >= run_ms:
            break
        time.sleep_ms(loop_ms)
    link.close()
    out(ev="done", stats=link.stats, max_gap_ms=max_gap, iterations=iterations,
        elapsed_ms=time.ticks_diff(time.ticks_ms(), start), empty_at_ms=first_empty,
        outbox=len(box), commands=len(commands), reads=getattr(link, "reads", None))


main()
