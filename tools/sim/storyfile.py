"""Reading a story: JSON Lines of hub inputs (the scenario-replay format) and
callee behaviour, each at "t" ms of story (hub) time.

    {"config": {...}}      hub config fields laid over tools/demo/hub-config.json
    {"account": {...}}     monitoring account fields over tools/demo/account.json
    {"t": 0, "keys": "1234A"}              the keypad must answer ok (see expected_keypad)
    {"t": 0, "keys": "1111A", "expect": "wrong_code"}
    {"t": 0, "hold": ["*", "#"], "ms": 2500}
    {"t": 0, "zone": "front_door", "event": "open"}
    {"t": 0, "command": {"action": "SOS", "service": "fire"}}
    {"t": 0, "until": 90000}
    {"t": 0, "callee": {"contact": 1, "answer": true, "password": "...", "request": null}}
    {"note": "..."}
"""
import json

KEYS = "0123456789ABCD*#"
ACTIONS = ("keys", "hold", "zone", "command", "until", "callee")
# The keypad's answers (docs/panel.md, "Keypad"), for a keys line's "expect".
KEYPAD_RESULTS = ("ok", "error", "wrong_code", "locked", "ready", "not_ready", "aborted",
                  "bypassed", "unbypassed", "user_saved", "user_deleted")
# Keys that end an entry: the keypad answers each one (D, panic, answers nothing).
ENTER_KEYS = "ABC#"


class StoryError(ValueError):
    pass


class Story:
    def __init__(self):
        self.config = {}
        self.account = {}
        self.steps = []        # (t, line number, item), t never decreasing
        self.notes = []

    @property
    def end(self):
        return max([0] + [max(t, item.get("until", 0)) for t, _, item in self.steps])


def parse(lines, name="story"):
    story = Story()
    last = 0
    for n, raw in enumerate(lines, 1):
        raw = raw.strip()
        if not raw:
            continue
        where = "%s line %d" % (name, n)
        try:
            item = json.loads(raw)
        except ValueError:
            raise StoryError("%s: not valid JSON" % where)
        if not isinstance(item, dict):
            raise StoryError("%s: each line must be a JSON object" % where)
        if set(item) == {"note"}:
            story.notes.append(item["note"])
            continue
        if "config" in item or "account" in item:
            if story.steps:
                raise StoryError("%s: config and account come before the first step" % where)
            which = "config" if "config" in item else "account"
            if not isinstance(item[which], dict):
                raise StoryError("%s: %s must be an object" % (where, which))
            getattr(story, which).update(item[which])
            continue
        t = item.get("t", last)
        if not isinstance(t, int) or isinstance(t, bool) or t < last:
            raise StoryError("%s: t must be whole ms, not before %d" % (where, last))
        problem = _check(item)
        if problem:
            raise StoryError("%s: %s" % (where, problem))
        story.steps.append((t, n, item))
        last = t
    return story


def expected_keypad(item):
    """The keypad answer a step implies, or None: a keys line ending an entry
    implies "ok" (an arming or disarming that happened) unless it says "expect"."""
    if "keys" not in item:
        return None
    return item.get("expect") or ("ok" if item["keys"][-1] in ENTER_KEYS else None)


def _check(item):
    found = [a for a in ACTIONS if a in item]
    if len(found) != 1:
        return "one of %s per line" % ", ".join(ACTIONS)
    a = found[0]
    v = item[a]
    if "expect" in item and a != "keys":
        return "expect goes with keys: the keypad's answer to them"
    if a == "keys":
        if not isinstance(v, str) or not v or any(k not in KEYS for k in v):
            return "keys must be a text of keypad keys (%s)" % KEYS
        if "expect" in item and item["expect"] not in KEYPAD_RESULTS:
            return "expect %r: the keypad answers one of %s" % (item["expect"],
                                                               ", ".join(KEYPAD_RESULTS))
    elif a == "hold":
        if not isinstance(v, list) or not v or any(k not in KEYS for k in v):
            return "hold must be a list of keypad keys"
        ms = item.get("ms")
        if not isinstance(ms, int) or ms < 0:
            return "hold needs ms, the time the keys stay down"
    elif a == "zone":
        if not isinstance(v, (str, int)) or not isinstance(item.get("event"), str):
            return "zone needs a zone name or number and an event"
    elif a == "until":
        if not isinstance(v, int):
            return "until must be whole ms"
    elif a == "callee":
        if not isinstance(v, dict) or not isinstance(v.get("contact"), int):
            return "callee needs an object with the contact's position (1, 2, ...)"
        if v.get("request") not in ("dispatch", "cancel", None):
            return "callee request must be dispatch, cancel or null"
    return None
