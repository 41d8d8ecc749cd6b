"""Several workers on one store, one of them killed mid-burst: real mosquitto,
real worker processes (SIGKILL), the real store on each backend."""
import collections
import json
import os
import re
import socket
import time

import httpx

from desk_helpers import add_account, query
from waiting import until
from web_helpers import OP_PASSWORD, add_operator

HUBS = 200
PER_HUB = 10
RING_S = 2.0        # so the killed worker leaves calls ringing: the survivor ends them


def test_a_worker_killed_mid_burst_loses_nothing_and_the_survivor_finishes_its_timers(
        db, service, hubs):
    secrets = {"hub-%03d" % i: os.urandom(32) for i in range(HUBS)}
    for hub, secret in secrets.items():
        add_account(db, hub, secret=secret, contacts=1, password=None)
    workers = [service("--share", "desk", "--ring-timeout", str(RING_S),
                       "--redeliver-after", "1") for _ in range(2)]
    h = hubs(secrets)

    def burst(rounds):
        for n in rounds:
            for hub in secrets:
                if n == 3:
                    # One burglary per hub among routine signals: 200 cases, each
                    # with a call that rings out and then a dispatch. Two zones
                    # back to back, so the shared subscription hands them to both
                    # workers at once: still one case (the second joins it).
                    h.signal(hub, "E130", zone=1)
                    h.signal(hub, "E130", zone=2)
                else:
                    h.signal(hub, "E602" if n % 2 else "R401", zone=1)
    total = HUBS * PER_HUB

    # Mid-burst: the doomed worker has placed calls whose ring timers are
    # still to fire (each rings RING_S), and half the burst is still to come.
    # Which worker opens a hub's case is the race the store decides (on a
    # loaded machine one SQLite writer may win nearly all of them): the doomed
    # one is the first seen placing calls.
    burst(range(5))
    assert until(lambda: any(w.lines.where(step="call") for w in workers), timeout=60), \
        [w.err[-5:] for w in workers]
    doomed, survivor = workers if workers[0].lines.where(step="call") else workers[::-1]
    doomed.kill9()
    burst(range(5, PER_HUB - 1))
    at_kill = len(h.acked)
    called_by_doomed = {l["case"] for l in doomed.lines.where(step="call")}
    ended_by_doomed = {l["case"] for l in doomed.lines.where(step="no_answer")}
    left_ringing = called_by_doomed - ended_by_doomed
    assert at_kill < total and left_ringing, (at_kill, len(called_by_doomed))

    # The hubs resend what was not acked; the survivor takes everything.
    assert h.wait_acked(timeout=60, resend_s=2), (total - len(h.acked), survivor.err[-5:])
    assert until(lambda: len(query(db, "SELECT case_id FROM dispatches")) >= HUBS, timeout=30,
                 every=0.2)

    # Every signal stored once, and counted once.
    signals = query(db, "SELECT hub, seq FROM signals")
    assert len(signals) == total and len({(s["hub"], s["seq"]) for s in signals}) == total
    assert query(db, "SELECT n FROM counters WHERE name = 'stored'") == [{"n": total}]
    # Every case decided once: one burglary case per hub, each called once,
    # rung out once, dispatched once; no step of any case happened twice.
    cases = query(db, "SELECT id, hub, status FROM cases WHERE plan = 'burglar'")
    assert len(cases) == HUBS and {c["hub"] for c in cases} == set(secrets)
    assert all(c["status"] == "dispatched" for c in cases)
    twice = query(db, "SELECT case_id, step, COUNT(*) AS n FROM timeline "
                      "GROUP BY case_id, step HAVING COUNT(*) > 1")
    assert twice == [], twice
    steps = collections.Counter(r["step"] for r in query(db, "SELECT step FROM timeline"))
    assert steps["dispatch"] == steps["call"] == steps["no_answer"] == HUBS, steps
    assert query(db, "SELECT * FROM timers WHERE kind = 'ring'") == []

    # The survivor rang out the calls the doomed worker had left ringing.
    ended_by_survivor = {l["case"] for l in survivor.lines.where(step="no_answer")}
    assert left_ringing <= ended_by_survivor
    # And delivered the steps the doomed one had committed but not yet emitted.
    ids = {r["id"] for r in query(db, "SELECT id FROM timeline")}
    assert until(lambda: ids <= {l["id"] for l in doomed.lines.all + survivor.lines.all},
                 timeout=20)
    print("\n%d signals, %d hubs; worker killed at %d acked with %d calls ringing; "
          "the survivor finished them" % (total, HUBS, at_kill, len(left_ringing)))


def _live_stream(web, cookie):
    """The console's live stream on a raw socket, as a browser holds it open."""
    host, port = web.url.rsplit("/", 1)[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: %s:%s\r\nCookie: op_session=%s\r\n\r\n"
              % (host.encode(), port.encode(), cookie.encode()))
    return s


def test_a_console_on_one_worker_shows_the_cases_another_worker_writes(db, monitor, hubs,
                                                                         console):
    """On PostgreSQL workers commit side by side and the console hears of each
    step through LISTEN/NOTIFY; on SQLite it follows the timeline's ids."""
    secrets = {"hub-%02d" % i: os.urandom(32) for i in range(20)}
    for hub, secret in secrets.items():
        add_account(db, hub, secret=secret, contacts=1, password=None)
    add_operator(db)
    (rx_a, lines_a), (rx_b, lines_b) = [monitor(share="desk", ring_s=600) for _ in range(2)]
    web = console(rx_a)
    with httpx.Client(base_url=web.url) as c:
        cookie = c.post("/api/login", json={"name": "ann", "password": OP_PASSWORD},
                        headers={"Origin": web.url}).cookies["op_session"]
    s = _live_stream(web, cookie)
    try:
        got = b""
        while b": live" not in got:
            got += s.recv(4096)
        h = hubs(secrets)
        for hub in secrets:
            h.signal(hub, "E130", zone=1)
        assert h.wait_acked(timeout=30, resend_s=5)
        # The shared subscription split the alarms: each worker opened cases.
        assert until(lambda: len(lines_a.where(step="open")) + len(lines_b.where(step="open"))
                     == len(secrets), timeout=30)
        by_b = {l["case"] for l in lines_b.where(step="open")}
        assert by_b and lines_a.where(step="open")
        told = set()
        deadline = time.monotonic() + 30
        while not by_b <= told and time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                got += s.recv(65536)
            except socket.timeout:
                break
            for data in re.findall(rb"event: changed\ndata: (\{.*?\})\n", got):
                told |= set(json.loads(data)["cases"])
        assert by_b <= told, (sorted(by_b - told), sorted(told))
    finally:
        s.close()
