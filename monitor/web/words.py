"""Contact ID codes in words, for people: "Burglary — front door (entry/exit)".

The words come from the one table of Contact ID facts the hub and the service
share (firmware/panel/contact_id.py, read through monitor/plans.py); the page
shows the code beside them."""
from monitor.plans import event_words


def describe(code, name=None):
    """Words for a Contact ID code (and the zone or user it names); "" for no code."""
    if not isinstance(code, str):
        return ""
    return event_words(code, name)


# Why a case ended, as a person says it.
REASONS = {"no_answer": "nobody answered", "wrong_password": "wrong verbal password",
           "requested": "asked for on the call", "confirmed": "confirmed on the call",
           "owner_app": "in the owner's app", "confirmed_in_app": "confirmed in the owner's app",
           "operator": "by the monitoring center", "duress": "duress, at once",
           "keypad_cancel": "cancelled at the keypad", "follow_up": "follows a dispatched case"}


def reason(code):
    return REASONS.get(code, str(code or "").replace("_", " "))
