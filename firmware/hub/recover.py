# Reading the hub's own files at boot, whatever flash did to them. A file that
# does not parse, or holds a value of the wrong type, must never stop the boot:
# what is readable is kept, what is not is dropped and counted in `damaged`
# (file name -> records lost), which the hub reports as a trouble signal and
# on its status topic. The panel then resumes from what could be read.
from panel import panel as P

_STATES = (P.DISARMED, P.ARMING, P.ARMED_HOME, P.ARMED_AWAY, P.PENDING, P.TRIGGERED)


class Damage:
    def __init__(self):
        self.files = {}

    def add(self, name, n=1):
        if n:
            self.files[name] = self.files.get(name, 0) + n


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _bool(v):
    return v is True or v is False


def _state(v):
    return v in _STATES


def _is_list(v):
    return isinstance(v, list)


# The snapshot fields this hub knows, and what each must look like. Fields it
# does not know (a newer panel's) are passed on: the panel's restore is tried
# with them, and without everything if it still fails.
_SNAPSHOT = (("state", _state), ("mode", _int), ("armed_by", _int), ("seq", _int),
             ("alarm_sent", _bool), ("exit_error", _bool), ("remote", _bool),
             ("entry_zone", _int), ("held", _is_list), ("zones", _is_list))


def _rows(rows, shapes, damage, name):
    # Rows of a list that each hold len(shapes) values of the given kinds.
    good = []
    for r in rows:
        if isinstance(r, list) and len(r) == len(shapes) and \
                all(shapes[i](r[i]) for i in range(len(shapes))):
            good.append(r)
        else:
            damage.add(name)
    return good


def _text(v):
    return isinstance(v, str)


def snapshot(store, damage):
    """The saved panel snapshot with every unreadable field dropped."""
    snap = _load(store, "panel", damage)
    if snap is None:
        return {}
    for key, ok in _SNAPSHOT:
        if key in snap and not ok(snap[key]):
            del snap[key]
            damage.add("panel")
    if "zones" in snap:
        snap["zones"] = _rows(snap["zones"], (_int, _int), damage, "panel")
    if "held" in snap:
        snap["held"] = _rows(snap["held"], (_text, _int, _int), damage, "panel")
    return snap


def counters(store, damage):
    """Saved sensor counters {mac: int}, the unreadable ones dropped."""
    saved = _load(store, "sensors", damage)
    good = {}
    for mac in saved or ():
        if isinstance(mac, str) and _int(saved[mac]):
            good[mac] = saved[mac]
        else:
            damage.add("sensors")
    return good


def users(store, damage):
    """The saved code table {"config", "codes"}, or None."""
    saved = _load(store, "users", damage)
    if saved is None:
        return None
    rows = saved.get("codes")
    if not isinstance(rows, list):
        damage.add("users")
        return None
    saved["codes"] = _rows(rows, (_int, _text, _text, _text), damage, "users")
    return saved


def cmd_id(store, damage):
    saved = _load(store, "link", damage)
    if saved is None:
        return 0
    cid = saved.get("cmd_id", 0)
    if not _int(cid):
        damage.add("link")
        return 0
    return cid


def _load(store, name, damage):
    # A dict, or None when missing or unreadable (counted).
    bad = store.corrupt
    v = store.load(name)
    if store.corrupt != bad:
        damage.add(name)
    if v is None:
        return None
    if not isinstance(v, dict):
        damage.add(name)
        return None
    return v
