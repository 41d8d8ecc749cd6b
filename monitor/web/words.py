"""What a person reads, in words: Contact ID codes ("Burglary — front door
(entry/exit)"), why a case ended, each timeline step, and the one time format.

The event words come from the one table of Contact ID facts the hub and the
service share (firmware/panel/contact_id.py, read through monitor/plans.py);
the pages show the code beside them. Operators read the trade's words
("Opening", "Closing"); owners read what they did ("Disarmed", "Armed")."""
import time

from monitor.plans import _parse, event_words

# Owner's words for the trade's: an opening is a disarm, a closing an arm.
OWNER_EVENTS = {401: ("Disarmed", "Armed")}


def describe(code, name=None, owner=False):
    """Words for a Contact ID code (and the zone or user it names); "" for no code.
    owner: in an owner's words (the app, the house page)."""
    if not isinstance(code, str):
        return ""
    parsed = _parse(code)
    if owner and parsed is not None and parsed.event in OWNER_EVENTS:
        disarmed, armed = OWNER_EVENTS[parsed.event]
        text = disarmed if parsed.qualifier == "E" else armed
        return text + (" by " + str(name).replace("_", " ") if name else "")
    return event_words(code, name)


def with_code(code, name=None, owner=False):
    """The words with the Contact ID code beside them, not instead of them."""
    return "%s %s" % (describe(code, name, owner), code)


def clock_text(wall_s):
    """One time format on every page (the browser's is clockText in
    static/api.js): 24-hour HH:MM:SS, local time, to the second."""
    return time.strftime("%H:%M:%S", time.localtime(wall_s))


# Why a step was taken or a case ended, as a person says it.
REASONS = {"no_answer": "nobody answered", "wrong_password": "wrong verbal password",
           "requested": "asked for on the call", "confirmed": "confirmed on the call",
           "verified": "verbal password right, asked to cancel",
           "not_cancelled": "not cancelled on the call",
           "owner_app": "in the owner's app", "confirmed_in_app": "confirmed in the owner's app",
           "operator": "by the monitoring center", "duress": "duress, at once",
           "keypad_cancel": "cancelled at the keypad", "follow_up": "follows a dispatched case",
           "plan": "by the plan", "next_contact": "the next contact, by the plan",
           "after_dispatch": "after the dispatch", "hold_time": "past its hold time",
           "ignored_duress": "ignored: the hub is under duress", "recorded": "recorded",
           "offline": "hub offline", "test_overdue": "test report overdue",
           "seq_reset": "sequence numbers started again", "online": "hub back online",
           "test": "test report received"}


def reason(code):
    return REASONS.get(code, str(code or "").replace("_", " "))


STATUS = {"open": "Open", "dispatched": "Dispatched", "cancelled": "Cancelled",
          "closed": "Closed"}


def status(case):
    """A case's state as its heading says it: "Closed" once an operator closed it."""
    if case.get("closed_ms"):
        return "Closed"
    return STATUS.get(case.get("status"), str(case.get("status") or "").capitalize())


SERVICE = {"police": "police", "fire": "fire brigade", "medical": "ambulance"}
# What an operator did, as the timeline says it: "<words> by ann".
OPERATOR = {"call": "call placed", "answered": "answered", "no_answer": "nobody answered",
            "password": "verbal password checked", "request": "request recorded",
            "dispatch": "dispatched", "cancel": "cancelled", "close": "closed",
            "close_all": "all cases of the hub closed"}
REQUEST = {"dispatch": "dispatch", "cancel": "cancel", "none": "nothing"}
APP = {"cancel": "cancel", "confirm": "emergency confirmed", "sos": "SOS"}


# Why an alarm joined a case instead of opening one (response-plans.md,
# "Across cases of one hub").
JOINED = {"after_dispatch": "same service within the follow-up window, news for the responders",
          "duress": "the hub is under duress, every alarm joins this case"}


def _contact(line):
    return "contact %s" % line.get("contact", "?")


def step(line):
    """A timeline step (a JSON line, monitor/timeline.py) in an operator's words."""
    kind = line.get("step")
    code = line.get("code")
    # The signal's words as the view gave them (an SOS from the owner's app), else by its code.
    signal = ("%s %s" % (line.get("words") or describe(code, line.get("name")), code)
              if code else "")
    service = SERVICE.get(line.get("service"), line.get("service") or "")
    why = reason(line.get("reason"))
    if kind == "open":
        text = "Case opened: " + (signal or why)
        if service:
            text += ", for the " + service
    elif kind == "call":
        text = "Calling %s %s %s (%s)" % (_contact(line), line.get("name", ""),
                                         line.get("phone", ""), why)
    elif kind == "no_contact":
        text = "No %s to call (%s)" % (_contact(line), why)
    elif kind == "answered":
        text = "%s answered" % _contact(line).capitalize()
    elif kind == "no_answer":
        text = "%s: nobody answered" % _contact(line).capitalize()
    elif kind == "password":
        text = "Verbal password: %s" % line.get("result", "?")
    elif kind == "request":
        text = "%s asks for: %s" % (_contact(line).capitalize(),
                                    REQUEST.get(line.get("reason"), why))
    elif kind == "dispatch":
        text = "Dispatched the %s (%s)" % (service or "police", why)
    elif kind == "cancel":
        text = "Cancelled (%s)" % why
    elif kind == "hold":
        text = "Held for the operator, no dispatch (%s)" % why
    elif kind == "keypad_cancel":
        text = "Keypad cancel: %s (%s)" % (signal, why)
    elif kind == "signal":
        text = "Also: " + signal
    elif kind == "update":
        what = signal or ("case #%s" % line["joined"] if line.get("joined") else service)
        text = "%s, joined this case: %s" % (what, JOINED.get(line.get("reason"), why))
    elif kind == "overdue":
        text = ("Not acknowledged in time: top of the queue"
                if line.get("reason") == "not_acknowledged"
                else "Held past its hold time: top of the queue")
    elif kind == "acknowledge":
        text = "Acknowledged by %s" % line.get("operator", "?")
    elif kind == "close":
        text = "Closed (%s)" % why
    elif kind == "operator":
        text = "%s by %s" % (OPERATOR.get(line.get("reason"), why), line.get("operator", "?"))
    elif kind == "app":
        if line.get("reason") == "locked":
            text = "Owner's app: cancel locked after %s wrong verbal passwords" % line.get("wrong")
        elif line.get("reason") == "ignored_duress":
            text = "Owner's app: %s tried under duress, ignored" % APP.get(line.get("request"),
                                                                        line.get("request"))
            if line.get("result"):
                text += " (%s verbal password)" % line["result"]
            text += "; the app answered as if it had worked"
        else:
            text = "Owner's app: " + APP.get(line.get("reason"), why)
            if line.get("result"):
                text += " with a %s verbal password" % line["result"]
    else:
        text = str(kind or "?").replace("_", " ")
    if line.get("via") == "dc09":
        text += " (received by DC-09)"
    return text
