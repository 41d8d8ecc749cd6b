"""What only the simulation knows of each zone type (firmware/panel/zones.py
TYPES has the rest): the events a person can cause at a BLE zone on the house
page, each with the words "What happened" says it in. A wired zone of any type
only opens and closes. A type without a row here offers its trip (and close)."""
from panel import zones as Z

PAGE = {
    "contact": (("open", "opened"), ("close", "closed")),
    "motion": (("motion", "someone walked past"),),
    "glass_break": (("glass_break", "glass broken"),),
    "panic": (("press", "pressed"),),
    "tamper": (("tamper", "tampered with"), ("tamper_restore", "tamper restored")),
    "fire": (("alarm", "smoke"),),   # a person says it; the radio makes it "open"
}
# The panel's restores: they set the zone's object to 0, any other event to 1.
RESTORES = ("close", "tamper_restore")


def page_events(ztype):
    """The events a person can cause at a BLE zone of type ztype: its PAGE row,
    else its trip (and close) from TYPES; an unknown type's are a contact's."""
    if ztype in PAGE:
        return [e for e, _ in PAGE[ztype]]
    row = Z.kind(ztype) or Z.TYPES[0]
    return [row[Z.T_TRIP]] + (["close"] if row[Z.T_FLAGS] & Z.CLOSES else [])


def values():
    """{zone event: the value it gives the zone's own BTHome object}: every
    page event and every type's trip."""
    out = {}
    for event in list(words()) + [t[Z.T_TRIP] for t in Z.TYPES]:
        out[event] = 0 if event in RESTORES else 1
    return out


def words():
    """{page event: the words for it} over every zone type."""
    out = {}
    for ztype in PAGE:
        for event, said in PAGE[ztype]:
            out[event] = said
    return out
