"""Contact ID codes in words, for people: "Burglary — front door (entry/exit)".

One small lookup so it can later read the shared table of Contact ID facts
(code, plan, priority, words) instead of this one."""

WORDS = {
    "E100": "Medical alarm",
    "E110": "Fire alarm",
    "E120": "Panic",
    "E121": "Duress",
    "E130": "Burglary",
    "E134": "Burglary",
    "E137": "Tamper",
    "E374": "Exit error",
    "E381": "Sensor not heard (supervision)",
    "E383": "Sensor tamper",
    "E384": "Low battery",
    "E401": "Disarmed",
    "R401": "Armed",
    "E406": "Keypad cancel by owner",
    "E421": "Keypad locked out",
    "E459": "Recent closing",
    "E461": "Wrong codes at the keypad",
    "E570": "Zone bypassed",
    "E602": "Periodic test report",
    "E305": "Hub restarted",
}
# What a code says about its zone, after the zone's name.
ZONE_NOTE = {"E134": "entry/exit"}


def describe(code, zone_name=None):
    """Words for a Contact ID code (and the zone it names); the code itself when unknown."""
    if not isinstance(code, str):
        return ""
    text = WORDS.get(code, code)
    if zone_name:
        text += " \u2014 " + str(zone_name).replace("_", " ")
    if code in ZONE_NOTE:
        text += " (%s)" % ZONE_NOTE[code]
    return text
