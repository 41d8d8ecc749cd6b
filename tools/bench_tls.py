"""TLS figures for `make bench`: what TLS costs the hub's link, under the host
micropython on the compiled firmware, against two private mosquittos in the
same run: the plain one and the secure one (TLS with an EC P-256 certificate
from monitor.broker_access, a login, the ACL).

- connect time, plain and TLS (TCP + handshake + MQTT CONNECT + subscribe),
  p50 over N connects on loopback: on the board, add the ESP32's handshake
  arithmetic (README, "Performance");
- heap: live while connected beside plain, and the smallest -X heapsize that
  connects and publishes (bisection), plain and TLS. The host port allocates
  mbedtls' buffers on the MicroPython heap; the ESP32 port on the IDF heap
  beside it, so on the board the same bytes come out of the RAM Wi-Fi and BLE
  share."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tools import mpy_build, paths
from tools.broker import Broker
from tools.hubsim import HOST_LIB

SCRIPT = os.path.join(paths.ROOT, "tools", "bench_tls_mp.py")
HUB = "bench-hub"


def _run(mode, cfg, lib, heap=None, micropython=None, frozen=False):
    """micropython: another interpreter (tools/mp32.py's 32-bit builds); frozen: the
    firmware and umqtt are frozen into it, nothing of theirs on the path."""
    cmd = [micropython or paths.venv_tool("micropython")]
    if heap:
        cmd += ["-X", "heapsize=%d" % heap]
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join(([] if frozen else [lib, mpy_build.OUT]) + [".frozen"])
    env["BENCH_TLS_CFG"] = json.dumps(cfg)
    done = subprocess.run(cmd + [SCRIPT, mode], capture_output=True, text=True, env=env,
                          timeout=300)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return None
    out = json.loads(lines[-1])
    return out if out.get("ok") else None


def _smallest(mode, cfg, lib, **kw):
    lo, hi = 8192, 1 << 21
    if _run(mode, cfg, lib, hi, **kw) is None:
        raise RuntimeError("%s does not connect even in %d bytes of heap" % (mode, hi))
    while hi - lo > 256:
        mid = (lo + hi) // 2
        if _run(mode, cfg, lib, mid, **kw) is None:
            lo = mid
        else:
            hi = mid
    return hi


def _p50(values):
    values = sorted(values)
    return values[len(values) // 2]


def main(n=20):
    mpy_build.build()
    work = tempfile.mkdtemp()
    lib = os.path.join(work, "lib")
    os.makedirs(os.path.join(lib, "umqtt"))
    subprocess.run([paths.mpy_cross(), "-o", os.path.join(lib, "umqtt", "simple.mpy"),
                    os.path.join(HOST_LIB, "umqtt", "simple.py")], check=True)
    try:
        with Broker(os.path.join(work, "plain")) as plain, \
                Broker(os.path.join(work, "tls"), hubs=[HUB]) as secure:
            pcfg = {"port": plain.port, "hub": HUB, "n": n}
            tcfg = {"port": secure.port, "hub": HUB, "n": n, "ca": secure.access.ca_pem(),
                    "user": HUB, "password": secure.access.password(HUB)}
            p = _run("plain", pcfg, lib)
            t = _run("tls", tcfg, lib)
            if p is None or t is None:
                raise RuntimeError("the link did not connect (plain %r, tls %r)" % (p, t))
            one_p, one_t = dict(pcfg, n=1), dict(tcfg, n=1)
            hp = _smallest("plain", one_p, lib)
            ht = _smallest("tls", one_t, lib)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("TLS on the hub's link (host micropython, %d connects each, EC P-256 certificate)" % n)
    print("  connect, plain -> TLS:      p50 %.1f ms -> %.1f ms (TCP, handshake, login, "
          "subscribe; loopback)" % (_p50(p["connect_us"]) / 1000, _p50(t["connect_us"]) / 1000))
    print("  heap live while connected:  %d -> %d bytes (+%d for the TLS session)"
          % (p["live_connected"], t["live_connected"],
             t["live_connected"] - p["live_connected"]))
    print("  smallest -X heapsize to connect and publish: %d -> %d bytes (+%d, handshake peak"
          " included)" % (hp, ht, ht - hp))
    print("  after close, left on the heap: %d bytes (TLS context and CA kept for reconnects)"
          % t["after_close"])
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
