# Reading the hub's own damaged files at boot, under both runtimes: what can
# be read is kept, what cannot is counted, and the panel resumes from it.
import os
from panel.config import Config
from panel.panel import Panel
from panel.replay import DEFAULT_CONFIG
from hub import recover
from hub import boot


class Files:
    # The Store interface over a dict of values; "bad" stands for a file that
    # does not parse (Store counts it in `corrupt` and gives the default).
    def __init__(self, **files):
        self.files = files
        self.corrupt = 0

    def load(self, name, default=None):
        v = self.files.get(name, default)
        if v == "bad":
            self.corrupt += 1
            return default
        return v


def test_a_snapshot_keeps_its_readable_fields_and_counts_the_others():
    damaged = {}
    snap = recover.snapshot(Files(panel={
        "v": 1, "state": "armed_away", "mode": True, "seq": 9, "alarm_sent": 1,
        "zones": [[1, 1], [2], ["3", 0], [4, 0]], "held": [["E", 130, 1], ["E", "x", 1]],
        "lockout_ms": 5}), damaged)
    assert snap == {"v": 1, "state": "armed_away", "seq": 9, "zones": [[1, 1], [4, 0]],
                    "held": [["E", 130, 1]], "lockout_ms": 5}
    assert damaged == {"panel": 5}         # mode, alarm_sent, two zones, a held alarm
    damaged = {}
    assert recover.snapshot(Files(panel={"state": "on_fire"}), damaged) == {}
    assert recover.snapshot(Files(panel=[1, 2]), damaged) == {}
    assert recover.snapshot(Files(panel="bad"), damaged) == {}
    assert recover.snapshot(Files(), damaged) == {}          # no file yet: no damage
    assert damaged == {"panel": 3}


def test_counters_and_the_command_watermark_survive_wrong_types():
    damaged = {}
    assert recover.counters(Files(sensors={"AA": 5, "BB": "7", "CC": None}), damaged) == {"AA": 5}
    assert recover.cmd_id(Files(link={"cmd_id": "12"}), damaged) == 0
    assert recover.cmd_id(Files(link={"cmd_id": 12}), damaged) == 12
    assert recover.counters(Files(sensors=[1]), damaged) == {}
    assert damaged == {"sensors": 3, "link": 1}


class Fussy(Panel):
    # A panel whose restore fails on a field (as a newer panel's field could).
    def restore(self, snap, now, cause):
        if "lockout_ms" in snap:
            raise TypeError("lockout_ms")
        Panel.restore(self, snap, now, cause)


def test_a_snapshot_the_panel_cannot_restore_resumes_from_the_fields_it_knows():
    cfg = Config(DEFAULT_CONFIG, os.urandom)
    real = boot.Panel
    boot.Panel = Fussy
    try:
        damaged = {}
        p = boot._resume(cfg, 1000, 40, {"state": "armed_home", "mode": 1, "seq": 12,
                                         "lockout_ms": "x"}, "power_on", damaged)
    finally:
        boot.Panel = real
    assert p.state == "armed_home" and damaged == {"panel": 1}
    assert [o["signal"]["seq"] for o in p.take() if "signal" in o] == [41]   # from the outbox's
