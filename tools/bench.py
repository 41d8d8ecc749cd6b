"""Benchmarks: `make bench`. Figures are printed beside a baseline run in the same
process (or the same interpreter binary) so they compare across machines."""
import json
import os
import subprocess
import sys

from tools import mpy_build, paths

SCRIPT = os.path.join(paths.ROOT, "tools", "bench_panel.py")


def mp(args, heap=None):
    """Run the bench body on the compiled .mpy firmware, as the board would load it."""
    cmd = [paths.venv_tool("micropython")]
    if heap:
        cmd += ["-X", "heapsize=%d" % heap]
    env = paths.micropython_env()
    env["MICROPYPATH"] = mpy_build.OUT + ":.frozen"
    done = subprocess.run(cmd + [SCRIPT] + args, capture_output=True, text=True,
                          env=env, timeout=600)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def smallest_heap(args, lo=2048, hi=1 << 20):
    """Bisect -X heapsize for the smallest heap the run completes in (to 64 bytes)."""
    if mp(args, hi) is None:
        raise RuntimeError("does not run even in %d bytes" % hi)
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if mp(args, mid) is None:
            lo = mid
        else:
            hi = mid
    return hi


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
    print("firmware .mpy total:       %d bytes in %d files" % (sum(sizes.values()), len(sizes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
