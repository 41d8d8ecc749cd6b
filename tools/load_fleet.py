"""The bench's load steps' simulated hubs spread over several processes
(tools/bench_monitor.py, `_load`): one Python process receiving every ack
and publishing every signal of 160,000 hubs spent its GIL on paho and lagged
the acks by seconds while the service had cores to spare, so the bench
measured its own generator.

Each process (`python -m tools.load_fleet <port> <prefix>`) holds a disjoint
share of the hubs (every k-th of them, in name order), its own MQTT
connection subscribed to its own hubs' acks only, and a Hubs(fast=True,
network_thread=False): its one thread runs that connection while it waits
between signals, with no paho thread to wake and no interpreter lock to
hand over for each packet (0.59-0.78 cores at 100,000-200,000 hubs, against
0.73-0.92 with paho's thread and the signing inside the step). Per
step the parent asks each for its share of the step's hubs over the same
seconds; each answers with one JSON line: the step's ack latencies and how
many went unacked (tools.hubs.percentiles reads them)."""
import json
import select
import subprocess
import sys
import time

from tools import children, paths
from tools.hubs import Hubs

PROCS = 2


class LoadFleet:
    """secrets: {hub: secret bytes}, in name order the same hubs as a Hubs of
    them (a step of n hubs takes the first n names)."""

    def __init__(self, port, prefix, secrets, procs=PROCS):
        names = sorted(secrets)
        self.procs = []
        try:
            for k in range(procs):
                p = subprocess.Popen([sys.executable, "-m", "tools.load_fleet", str(port), prefix],
                                     cwd=paths.ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
                self.procs.append(p)
                share = {h: secrets[h].hex() for h in names[k::procs]}
                p.stdin.write(json.dumps(share) + "\n")
                p.stdin.flush()
            for p in self.procs:
                line = p.stdout.readline()
                if line.strip() != "ready":
                    raise RuntimeError("a load process did not start: %r" % line)
        except BaseException:
            self.close()
            raise

    @property
    def pids(self):
        return [p.pid for p in self.procs]

    def step(self, n_hubs, seconds):
        """The first n_hubs hubs at their rate for `seconds` (Hubs.step in each
        process, on its share of them), then up to 10 s for the acks. Returns
        (a list of latencies in seconds, how many unacked, the rate asked, the
        rate achieved, per process {"sent", "cpu_s"})."""
        k = len(self.procs)
        for i, p in enumerate(self.procs):
            # Its share of names[:n_hubs] is names[i::k][:this many].
            p.stdin.write(json.dumps({"hubs": len(range(i, n_hubs, k)), "seconds": seconds})
                          + "\n")
            p.stdin.flush()
        lat, unacked, asked, achieved, each = [], 0, 0.0, 0.0, []
        for p in self.procs:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError("a load process ended (exit %s)" % p.wait(10))
            r = json.loads(line)
            lat += r["lat"]
            unacked += r["unacked"]
            asked += r["asked"]
            # Each sent over the same seconds: their rates add.
            achieved += r["achieved"]
            each.append({"sent": r["sent"], "cpu_s": r["cpu_s"]})
        return lat, unacked, asked, achieved, each

    def close(self):
        children.end(self.procs, by_stdin=True)


def serve(port, prefix, inp=sys.stdin, out=sys.stdout):
    """The process body: a share of secrets on the first line, then a step per line."""
    share = {h: bytes.fromhex(s) for h, s in json.loads(inp.readline()).items()}
    hubs = Hubs(port, prefix, share, fast=True, inflight=0, own_topics=True, network_thread=False)
    print("ready", file=out, flush=True)
    try:
        while True:
            # The connection is this thread's to run (network_thread=False):
            # it keeps it alive while the parent is busy between steps.
            while not select.select([inp], [], [], 0)[0]:
                hubs.pause(0.05)
            line = inp.readline()
            if not line:
                break
            ask = json.loads(line)
            cpu0 = time.process_time()
            if ask["hubs"]:
                keys, asked, achieved = hubs.step(ask["hubs"], ask["seconds"])
            else:
                keys, asked, achieved = [], 0.0, 0.0
            with hubs.lock:
                lat = [round(hubs.acked[k] - hubs.sent_at[k], 5) for k in keys
                       if k in hubs.acked]
            print(json.dumps({"lat": lat, "unacked": len(keys) - len(lat), "sent": len(keys),
                              "asked": asked, "achieved": achieved,
                              "cpu_s": time.process_time() - cpu0}), file=out, flush=True)
    finally:
        hubs.close()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
