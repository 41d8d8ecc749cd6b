# Home Assistant MQTT discovery: the hub appears as one device holding an
# alarm_control_panel (its code checked on the hub: REMOTE_CODE) and one
# binary_sensor per zone. The uplink asks for each payload only when it sends
# it, so the ~30 retained configs never sit in the board's heap together.
#
# A zone's name is only its display name: its topic level is a slug of it
# (a-z, 0-9, _), unique per hub. A space gives a topic Home Assistant ignores,
# and a + or # in a topic the hub publishes makes the broker drop the hub.
import json
from panel import zones as Z
from hub.version import VERSION

# Home Assistant renders this with its `action` and `code` (None when no code
# was typed): tojson makes that `null`, never the text "None" that the panel
# would count as a wrong code.
COMMAND_TEMPLATE = '{"action": "{{ action }}", "code": {{ code | tojson }}}'


def slug(name):
    out = []
    for ch in name.lower():
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
        elif out and out[-1] != "_":
            out.append("_")
    return "".join(out).strip("_")


def slugs(names, numbers):
    # One topic level per zone, unique: a repeat or an empty slug takes the
    # zone number.
    seen = []
    for i in range(len(names)):
        s = slug(names[i]) or "zone"
        if s in seen or s == "zone":
            s = "%s_%d" % (s, numbers[i])
        elif s == names[i]:
            s = names[i]      # the name's own string: no second copy in the heap
        seen.append(s)
    return seen


def panel_topic(discovery_prefix, hub_id):
    return "%s/alarm_control_panel/%s/panel/config" % (discovery_prefix, hub_id)


def zone_topic(discovery_prefix, hub_id, level):
    return "%s/binary_sensor/%s/%s/config" % (discovery_prefix, hub_id, level)


def mains_topic(discovery_prefix, hub_id):
    # "-": no zone's slug has one, so no zone named "mains power" takes its topic.
    return "%s/binary_sensor/%s/mains-power/config" % (discovery_prefix, hub_id)


def _device(hub_id):
    return {"identifiers": [hub_id], "name": "Alarm hub " + hub_id,
            "manufacturer": "Open home alarm", "model": "ESP32 hub", "sw_version": VERSION}


def panel_config(base, hub_id):
    # base: "<prefix>/<hub>"
    return json.dumps({
        "name": None, "unique_id": hub_id + "_panel", "device": _device(hub_id),
        "state_topic": base + "/state", "command_topic": base + "/commands",
        # Why the last command was refused (hub/presence.py answer()).
        "json_attributes_topic": base + "/answer",
        "command_template": COMMAND_TEMPLATE, "qos": 1,
        "code": "REMOTE_CODE", "code_arm_required": False, "code_disarm_required": True,
        "supported_features": ["arm_home", "arm_away"],
        "availability_topic": base + "/availability",
    }).encode()


def mains_config(base, hub_id):
    # On while the mains is: off once AC loss is reported (E301), as the
    # station was told, not at every flicker of the sense input.
    return json.dumps({
        "name": "Mains power", "unique_id": hub_id + "_mains", "device": _device(hub_id),
        "state_topic": base + "/mains", "device_class": "power", "qos": 1,
        "availability_topic": base + "/availability",
    }).encode()


def zone_config(base, hub_id, number, name, ztype, level):
    row = Z.kind(ztype)      # the config let only known types through
    cfg = {"name": name.replace("_", " "), "unique_id": "%s_zone_%d" % (hub_id, number),
           "device": _device(hub_id), "state_topic": "%s/zone/%s" % (base, level),
           "json_attributes_topic": "%s/zone/%s/attributes" % (base, level),
           "device_class": row[Z.T_CLASS], "qos": 1,
           "availability_topic": base + "/availability"}
    if row[Z.T_FLAGS] & Z.MOMENTARY:
        cfg["off_delay"] = 30   # a trip is a moment; HA turns it off again
    return json.dumps(cfg).encode()
