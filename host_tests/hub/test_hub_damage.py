"""The whole firmware under micropython booting on damaged files of its own and
on config values of the wrong type: it never crashes. Damaged data: it starts,
keeps every record it can read, reports the damage (console, E303 signal, the
status counters) and resumes the alarm from what it read. A start-up it cannot
survive ends in the trouble mode, never at a bare prompt."""
import json
import os

import pytest

from test_hub_process import CLOSED_LOOPS, boot, demo_config, hub  # noqa: F401 (fixture)


def write_data(tmp_path, **files):
    data = tmp_path / "hub" / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (data / name).write_bytes(text if isinstance(text, bytes) else text.encode())


def entry(seq, code="E130"):
    return json.dumps([seq, 1700000000, {"code": code, "event": int(code[1:]),
                                         "qualifier": code[0], "seq": seq, "zone": 7,
                                         "name": "garage_door"}])


def test_damaged_files_boot_armed_with_every_readable_alarm_and_say_so(hub, tmp_path):
    outbox = "\n".join([
        json.dumps({"v": 1, "last_seq": 5, "dropped": 0, "epoch": 77}),
        entry(4), "#@!garbage", entry(5), entry(6, "E120"), ""])
    write_data(tmp_path, outbox=outbox,
               panel=json.dumps({"v": 1, "state": "armed_home", "mode": 1, "armed_by": "x",
                                 "seq": 6, "zones": [[7, 0], "bad"], "held": 3}),
               sensors=json.dumps(["not", "a", "dict"]),
               link=json.dumps({"cmd_id": "12"}),
               users=b"\xff\xfe{{{")
    sim = hub(speed=20)
    line = boot(sim)
    assert line["state"] == "armed_home"                   # armed from what it read
    assert line["damaged"] == {"outbox": 1, "panel": 3, "sensors": 1, "link": 1, "users": 1}
    queued = [json.loads(x)[0] for x in
              (tmp_path / "hub" / "data" / "outbox").read_text().splitlines()[1:]]
    assert queued[:3] == [4, 5, 6]                       # the alarms after the damage are kept
    signals = sim.signals()
    assert [s["code"] for s in signals[:2]] == ["E305", "E303"]
    assert signals[1]["damaged"] == line["damaged"] and signals[0]["seq"] == 7
    assert line["queued"] == 5
    sim.level(18, 1)                                      # and the alarm still works
    sim.wait_for(lambda o: o.get("state") == "triggered")


def test_a_damaged_panel_file_with_an_empty_outbox_never_reuses_a_seq(hub, tmp_path):
    write_data(tmp_path, outbox=json.dumps({"v": 1, "last_seq": 41, "dropped": 0, "epoch": 5})
               + "\n" + json.dumps(["ack", [41]]) + "\n", panel="{")
    sim = hub(speed=20)
    line = boot(sim)
    assert line["damaged"] == {"panel": 1}
    assert [s["seq"] for s in sim.signals()[:2]] == [42, 43]


@pytest.mark.parametrize("change", [
    {"zones": [dict(demo_config()["zones"][4], object=5)] + demo_config()["zones"][5:]},
    {"zones": "front_door"},
    {"users": [["1234"]]},
    {"exit_delay": "60"},
], ids=["zone_object_number", "zones_text", "user_list", "delay_text"])
def test_a_config_value_of_the_wrong_type_ends_in_the_trouble_mode(hub, change):
    sim = hub(demo_config(**change))
    line = sim.wait_for(lambda o: "trouble" in o or "boot" in o, timeout=15)
    assert "trouble" in line and line["error"], line
    led = sim.board["led"]["pin"]
    sim.wait_pin(led, 1, timeout=5)                       # the LED blinks trouble
    sim.wait_pin(led, 0, timeout=5)
    assert not any("Traceback" in r for r in sim.raw), sim.raw
    assert sim.proc.poll() is None                        # never a bare prompt


def test_a_wifi_password_of_the_wrong_type_is_refused_by_validation(hub):
    # Once a TypeError at connect (a crash at boot on a board); now the config
    # check names the field and the hub waits in trouble mode, never a traceback.
    sim = hub(demo_config(wifi={"ssid": "home", "password": 1234}), speed=20)
    line = sim.wait_for(lambda o: o.get("trouble") == "config")
    assert line["field"] == "wifi.password", line
    assert not any("Traceback" in r for r in sim.raw), sim.raw
    assert sim.proc.poll() is None


def test_the_damage_is_on_the_status_topic_and_reaches_the_monitor(broker, tmp_path):
    from test_hub_mqtt import HUB, PREFIX, SECRET, Watcher
    from mqtt_monitor import Monitor
    from tools.hubsim import HubSim
    write_data(tmp_path, outbox="\n".join([
        json.dumps({"v": 1, "last_seq": 2, "dropped": 0, "epoch": 9}), entry(1), "]]",
        entry(2, "E120"), ""]))
    m = Monitor(broker.port, PREFIX, HUB, SECRET)
    w = Watcher(broker.port, ["%s/%s/status" % (PREFIX, HUB)])
    sim = HubSim(str(tmp_path / "hub"), demo_config(broker.port), speed=20,
                 levels=CLOSED_LOOPS).start()
    try:
        boot(sim)
        assert m.wait(lambda: {1, 2, 3, 4} <= set(m.seqs()), timeout=15)   # the kept alarms too
        trouble = [e for e in m.events if e["signal"]["code"] == "E303"][0]
        assert trouble["signal"]["damaged"] == {"outbox": 1} and trouble["epoch"] == 9
        status = json.loads(w.wait("%s/%s/status" % (PREFIX, HUB)))
        assert status["damaged"] == {"outbox": 1}
    finally:
        sim.stop()
        w.close()
        m.close()
