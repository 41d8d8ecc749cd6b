# Reading the hub's own files at boot, whatever flash did to them. A file that
# does not parse, or holds a value of the wrong type, must never stop the boot:
# what is readable is kept, what is not is dropped and counted in `damaged`
# (file name -> records lost), which the hub reports as a trouble signal and
# on its status topic. The panel then resumes from what could be read.
from panel import panel as P

_STATES = (P.DISARMED, P.ARMING, P.ARMED_HOME, P.ARMED_AWAY, P.PENDING, P.TRIGGERED)
# The snapshot fields this hub knows, and their types. Fields it does not know
# (a newer panel's) are passed on: boot tries the panel's restore with them,
# and without the whole snapshot if that fails.
_SNAPSHOT = (("state", str), ("mode", int), ("armed_by", int), ("seq", int),
             ("alarm_sent", bool), ("exit_error", bool), ("remote", bool),
             ("entry_zone", int), ("held", list), ("zones", list), ("ac_lost", bool))


def count(damaged, name, n=1):
    if n:
        damaged[name] = damaged.get(name, 0) + n


def _is(v, kind):
    # True and False are ints to Python; never where a number is due.
    return isinstance(v, kind) and (kind is bool or not isinstance(v, bool))


def _rows(rows, kinds, damaged, name):
    # The rows of a list that hold one value of each kind, in order.
    good = []
    for r in rows:
        if isinstance(r, list) and len(r) == len(kinds) and \
                all(_is(r[i], kinds[i]) for i in range(len(kinds))):
            good.append(r)
        else:
            count(damaged, name)
    return good


def load(store, name, damaged):
    """The file's dict, or None when it is missing or unreadable (counted)."""
    bad = store.corrupt
    v = store.load(name)
    if store.corrupt != bad or not (v is None or isinstance(v, dict)):
        count(damaged, name)
        return None
    return v


def snapshot(store, damaged):
    """The saved panel snapshot with every unreadable field dropped."""
    snap = load(store, "panel", damaged) or {}
    for key, kind in _SNAPSHOT:
        if key in snap and not (_is(snap[key], kind) and (key != "state" or snap[key] in _STATES)):
            del snap[key]
            count(damaged, "panel")
    if "zones" in snap:
        snap["zones"] = _rows(snap["zones"], (int, int), damaged, "panel")
    if "held" in snap:
        snap["held"] = _rows(snap["held"], (str, int, int), damaged, "panel")
    return snap


def known(snap):
    return dict((k, snap[k]) for k, _ in _SNAPSHOT if k in snap)


def counters(store, damaged):
    """Saved sensor counters {mac: int}, the unreadable ones dropped."""
    saved = load(store, "sensors", damaged) or {}
    good = {}
    for mac in saved:
        if _is(saved[mac], int):
            good[mac] = saved[mac]
        else:
            count(damaged, "sensors")
    return good


def cmd_id(store, damaged):
    cid = (load(store, "link", damaged) or {}).get("cmd_id", 0)
    if _is(cid, int):
        return cid
    count(damaged, "link")
    return 0
