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
