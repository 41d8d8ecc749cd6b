""""What happened" on the house page: each line the system emits, and each thing
the person at the page did, in words a householder reads. Signals keep their
Contact ID code beside the words (from the one table, monitor.plans)."""
from monitor.web.words import with_code
from tools.sim import pretty
from tools.sim import zone_types

STATE = {"disarmed": "Panel disarmed", "arming": "Exit delay started: leave now",
         "armed_home": "Armed Home", "armed_away": "Armed Away",
         "pending": "Entry delay: the code must be typed now",
         "triggered": "ALARM"}
KEYPAD = {"ok": "code accepted", "error": "not understood", "wrong_code": "wrong code",
          "locked": "locked out after too many wrong codes", "ready": "lockout over",
          "not_ready": "not ready: a zone is open", "aborted": "alarm aborted in time",
          "bypassed": "zone bypassed", "unbypassed": "zone no longer bypassed",
          "user_saved": "user code saved", "user_deleted": "user deleted"}
SIREN = {"off": "Siren off", "steady": "Siren sounding", "temporal3": "Siren: fire pattern",
         "chirp1": "Siren chirp (armed)", "chirp2": "Siren chirps (disarmed)"}
BUZZER = {"off": "Keypad buzzer off", "exit": "Keypad beeps: exit delay",
          "exit_fast": "Keypad beeps faster: exit delay ending",
          "entry": "Keypad beeps: entry delay", "alarm": "Keypad buzzer: alarm",
          "trouble": "Keypad beeps: trouble", "chime": "Door chime"}
LOG = {"alarm_aborted": "Alarm aborted at the keypad by {user} within the abort window: "
                        "nothing was sent",
       "swinger_shutdown": "Zone {zone} tripped too often: ignored until disarmed",
       "enrol": "Enrolling: the hub lists unknown sensors", "code_refused": "Code refused ({why})",
       "user_saved": "User {user}'s code saved", "user_deleted": "User {user} deleted"}
PLAN = {"burglar": "burglary", "panic": "panic", "duress": "duress", "sos": "SOS",
        "trouble": "trouble"}
# What a click on a zone's button does, as the person would say it.
ZONE_ACTION = zone_types.words()


def name(text):
    return str(text or "").replace("_", " ")


def line_text(line, users=None):
    """A story line (hub or monitor) in words; None for one a person has no use for."""
    if line["source"] == "monitor":
        return "Monitoring center, case %s (%s): %s" % (
            line.get("case"), PLAN.get(line.get("plan"), line.get("plan")),
            pretty.step_text(line))
    if "state" in line:
        return STATE.get(line["state"], "Panel: %s" % name(line["state"]))
    if "signal" in line:
        s = line["signal"]
        return "Sent to the monitoring center: %s" % with_code(s.get("code"), s.get("name"),
                                                               owner=True)
    if "keypad" in line:
        text = "Keypad: %s" % KEYPAD.get(line["keypad"], name(line["keypad"]))
        if line.get("zones"):
            text += " (zones %s)" % ", ".join(str(z) for z in line["zones"])
        return text
    if "siren" in line:
        return SIREN.get(line["siren"], "Siren: %s" % name(line["siren"]))
    if "buzzer" in line:
        return BUZZER.get(line["buzzer"], "Keypad buzzer: %s" % name(line["buzzer"]))
    if "log" in line:
        fields = {k: v for k, v in line.items() if k not in ("t", "source", "log")}
        if "user" in fields and users:
            fields["user"] = users.get(fields["user"], fields["user"])
        fields.setdefault("user", "?")
        fields.setdefault("zone", "?")
        fields.setdefault("why", "?")
        return LOG.get(line["log"], "Hub: %s" % name(line["log"])).format(**fields)
    if "trouble" in line:
        return "Hub trouble: %s" % (line.get("error") or line["trouble"])
    return None


def typed(keys):
    """Keys a person typed, as the log shows them: digits masked, the rest named."""
    return "".join("•" if k.isdigit() else k for k in keys)


def zone_text(zone, event):
    return "%s %s" % (name(zone).capitalize(), ZONE_ACTION.get(event, event))


def command_text(cmd):
    action = cmd.get("action")
    if action == "SOS":
        return "SOS %s pressed in the app" % cmd.get("service")
    return "App: %s" % name(str(action).lower())
