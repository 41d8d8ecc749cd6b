"""The response plans as pure decisions: which plan a signal starts, and what
follows a call. No database, no clock, no MQTT: cases.py applies the result.

Which plan a Contact ID code starts, and what it is called, comes from the
Contact ID table (firmware/panel/contact_id_table.py). See docs/monitoring.md
for the plans in prose."""
from typing import NamedTuple

from panel import contact_id as CID
from panel import contact_id_table as CID_TABLE

SERVICES = ("police", "fire", "medical")
CANCELLABLE = ("burglar", "panic", "sos")
# The operator's queue, most urgent first (an overdue hold goes above all).
PRIORITY = {"duress": 0, "panic": 1, "sos": 1, "burglar": 2, "trouble": 3}
PLAN_WORDS = {"burglar": "Burglar", "panic": "Panic", "duress": "Duress", "sos": "SOS",
              "trouble": "Trouble"}

KEYPAD_CANCEL_CODE = CID.code("E", CID.CANCEL)

OPEN, ATTACH, KEYPAD_CANCEL, TEST_REPORT, STORE = "open", "attach", "keypad_cancel", "test", "store"


class Meaning(NamedTuple):
    """What a signal means to the plans (classify). kind: OPEN (plan, service
    set), ATTACH (joins the hub's open `plan` case), KEYPAD_CANCEL, TEST_REPORT
    or STORE (stored and acked only)."""
    kind: str
    plan: str = None
    service: str = None


_KINDS = {"joins": Meaning(ATTACH, "burglar"), "cancel": Meaning(KEYPAD_CANCEL),
          "test": Meaning(TEST_REPORT)}
_STORE_ONLY = Meaning(STORE)


class Code(NamedTuple):
    """A Contact ID code read: "E130" is Code("E", 130)."""
    qualifier: str
    event: int


def _parse(code):
    """The Code of "E130", or None."""
    if not isinstance(code, str) or len(code) != 4 or code[0] not in "ER" \
            or not code[1:].isdigit():
        return None
    return Code(code[0], int(code[1:]))


def classify(signal):
    """What a verified signal means to the plans: a Meaning."""
    parsed = _parse(signal.get("code"))
    spec = CID_TABLE.spec(parsed.event) if parsed and parsed.qualifier == "E" else None
    if spec is None:
        return _STORE_ONLY
    _event, _rank, plan, service, _words = spec
    if plan is None:
        return _STORE_ONLY
    if plan in _KINDS:
        return _KINDS[plan]
    sos = signal.get("sos")
    if plan in ("panic", "sos") and sos in SERVICES:
        # The app's buttons: confirm by phone, send the service pressed. A
        # smoke or medical zone (no button behind it) is an SOS of its own service.
        return Meaning(OPEN, "sos", sos)
    return Meaning(OPEN, plan, service)


# Events whose name field is a person (the user at the keypad), not a zone.
_BY_USER = (CID.OPEN_CLOSE, CID.CANCEL)


def event_words(code, name=None):
    """What a person reads for a signal: "Burglary — front door (entry/exit)",
    "Keypad cancel by owner"; from the shared Contact ID table."""
    parsed = _parse(code)
    spec = CID_TABLE.spec(parsed.event) if parsed else None
    if spec is None:
        text = "Unknown event"
    else:
        _event, _rank, _plan, _service, spec_words = spec
        e_words, slash, r_words = spec_words.partition("|")
        if parsed.qualifier == "E":
            text = e_words
        else:
            text = r_words if slash else e_words + " restored"
    text, _, note = text.partition(", ")
    if name:
        by_user = parsed is not None and parsed.event in _BY_USER
        text += (" by " if by_user else " — ") + str(name).replace("_", " ")
    return text + (" (%s)" % note if note else "")


def words(code, name=None):
    """The words with the Contact ID code beside them, not instead of them:
    "Burglary — front door (entry/exit) E134"."""
    return "%s %s" % (event_words(code, name), code)


# Decisions after a call
DISPATCH, CANCEL, CALL_NEXT, HOLD = "dispatch", "cancel", "call_next", "hold"


class Decision(NamedTuple):
    """What the plan does after a call: what (DISPATCH, CANCEL, CALL_NEXT,
    HOLD), and the reason the timeline gives."""
    what: str
    reason: str


def after_call(plan, policy, answered, password_ok, request, keypad_cancel,
               more_contacts, call_next_contacts):
    """What the plan does once a call to a contact has an outcome.

    answered: bool; password_ok: True/False (False also when none was given);
    request: "dispatch" | "cancel" | None; keypad_cancel: an E406 was recorded
    on the case; more_contacts: a later contact exists to call.
    """
    if plan == "burglar":
        return _burglar(policy, answered, password_ok, request, keypad_cancel,
                        more_contacts and call_next_contacts)
    if plan in ("panic", "sos"):
        return _confirm(answered, password_ok, request, keypad_cancel)
    raise ValueError("plan %s places no calls" % plan)


def _cancel_reason(request, keypad_cancel):
    if keypad_cancel:
        return "keypad_cancel"
    return "requested" if request == "cancel" else "verified"


def _burglar(policy, answered, password_ok, request, keypad_cancel, try_next):
    if not answered:
        if try_next:
            return Decision(CALL_NEXT, "no_answer")
        if policy == "only_if_i_say":
            return Decision(HOLD, "no_answer")
        return Decision(DISPATCH, "no_answer")
    if request == "dispatch":
        return Decision(DISPATCH, "requested")
    if password_ok:
        return Decision(CANCEL, _cancel_reason(request, keypad_cancel))
    if policy == "only_if_i_say":
        return Decision(CALL_NEXT if try_next else HOLD, "wrong_password")
    return Decision(DISPATCH, "wrong_password")


def _confirm(answered, password_ok, request, keypad_cancel):
    # Panic and SOS: someone asked for help, so anything short of a verified
    # cancel sends it. Calling further contacts would only delay that.
    if not answered:
        return Decision(DISPATCH, "no_answer")
    if not password_ok:
        return Decision(DISPATCH, "wrong_password")
    if request == "cancel" or (keypad_cancel and request != "dispatch"):
        return Decision(CANCEL, _cancel_reason(request, keypad_cancel))
    return Decision(DISPATCH, "confirmed" if request == "dispatch" else "not_cancelled")
