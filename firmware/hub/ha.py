# Home Assistant MQTT discovery: the hub appears as one device holding an
# alarm_control_panel (its code checked on the hub: REMOTE_CODE) and one
# binary_sensor per zone. The uplink asks for each payload only when it sends
# it, so the ~30 retained configs never sit in the board's heap together.
import json

DEVICE_CLASS = {"contact": "opening", "motion": "motion", "glass_break": "vibration",
                "panic": "safety", "tamper": "tamper", "fire": "smoke"}
MOMENTARY = ("motion", "glass_break", "panic")


def panel_topic(discovery_prefix, hub_id):
    return "%s/alarm_control_panel/%s/panel/config" % (discovery_prefix, hub_id)


def zone_topic(discovery_prefix, hub_id, name):
    return "%s/binary_sensor/%s/%s/config" % (discovery_prefix, hub_id, name)


def _device(hub_id):
    return {"identifiers": [hub_id], "name": "Alarm hub " + hub_id,
            "manufacturer": "Open home alarm", "model": "ESP32 hub"}


def panel_config(base, hub_id):
    # base: "<prefix>/<hub>"
    return json.dumps({
        "name": None, "unique_id": hub_id + "_panel", "device": _device(hub_id),
        "state_topic": base + "/state", "command_topic": base + "/commands",
        "command_template": '{"action": "{{ action }}", "code": "{{ code }}"}',
        "code": "REMOTE_CODE", "code_arm_required": False, "code_disarm_required": True,
        "supported_features": ["arm_home", "arm_away"],
        "availability_topic": base + "/availability",
    }).encode()


def zone_config(base, hub_id, number, name, ztype):
    cfg = {"name": name.replace("_", " "), "unique_id": "%s_zone_%d" % (hub_id, number),
           "device": _device(hub_id), "state_topic": "%s/zone/%s" % (base, name),
           "json_attributes_topic": "%s/zone/%s/attributes" % (base, name),
           "device_class": DEVICE_CLASS.get(ztype, "opening"),
           "availability_topic": base + "/availability"}
    if ztype in MOMENTARY:
        cfg["off_delay"] = 30   # a trip is a moment; HA turns it off again
    return json.dumps(cfg).encode()
