"""The real aioble's heap figures (tools/bench_aioble.py) where a micropython-lib
tree is at hand: its code is counted, and the central-only install is smaller."""
import pytest

from tools import aioble_real, bench_aioble

REAL, WHY = aioble_real.source()


@pytest.mark.skipif(REAL is None, reason="the real aioble is not at hand: " + (WHY or ""))
def test_the_real_aioble_is_in_the_heap_figures():
    rows = bench_aioble.measure([("64-bit .mpy", None, False)], REAL)
    r = rows["64-bit .mpy"]
    assert r["stand-in"]["code"] < r["central"]["code"] < r["real"]["code"], r
    assert all(k["delivered"] == 320 for k in r.values()), r
