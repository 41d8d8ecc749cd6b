"""`make bench`'s loop cost per pass (tools/bench_loop.py) runs the whole hub
against a real mosquitto, connected and down, and what it times is an idle
connected loop: no message asked of umqtt while none came in."""
from tools import bench_loop


def test_the_loop_bench_times_a_connected_idle_link_and_a_down_one():
    rows = bench_loop.measure([("64-bit .mpy", None, False)], passes=300)
    r = rows["64-bit .mpy"]
    up, down = r["connected"], r["down"]
    assert up["connected"] is True and up["retained"] >= 60, r
    assert up["reads"] == 0, r
    assert 0 < up["median_us"] <= up["p90_us"] and 0 < down["median_us"] <= down["p90_us"], r
