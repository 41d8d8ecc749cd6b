"""The response plans as pure decisions: which plan a signal starts, and what
follows a call. No database, no clock, no MQTT: cases.py applies the result.

See docs/monitoring.md for the plans in prose."""

SERVICES = ("police", "fire", "medical")
BURGLARY = ("E130", "E134", "E137")
# Sent alongside a burglary (exit error, recent closing): context for its case.
BURGLARY_CONTEXT = ("E374", "E459")
SOS_CODES = {"E120": "police", "E110": "fire", "E100": "medical"}
CANCELLABLE = ("burglar", "panic", "sos")

OPEN, ATTACH, KEYPAD_CANCEL, TEST_REPORT, STORE = "open", "attach", "keypad_cancel", "test", "store"


def classify(signal):
    """What a verified signal means to the plans.

    (OPEN, plan, service) | (ATTACH, plan, None) | (KEYPAD_CANCEL,) | (TEST_REPORT,) | (STORE,)
    """
    code = signal.get("code")
    if not isinstance(code, str):
        return (STORE,)
    if code in BURGLARY:
        return (OPEN, "burglar", "police")
    if code in BURGLARY_CONTEXT:
        return (ATTACH, "burglar", None)
    if code == "E121":
        return (OPEN, "duress", "police")
    if code in SOS_CODES:
        sos = signal.get("sos")
        if sos in SERVICES:
            return (OPEN, "sos", sos)
        if code == "E120":
            return (OPEN, "panic", "police")
        # A smoke or medical zone (no app button behind it): confirm by phone
        # like an SOS, and send the service the code names.
        return (OPEN, "sos", SOS_CODES[code])
    if code == "E406":
        return (KEYPAD_CANCEL,)
    if code == "E602":
        return (TEST_REPORT,)
    return (STORE,)


# Decisions after a call: (what, reason)
DISPATCH, CANCEL, CALL_NEXT, HOLD = "dispatch", "cancel", "call_next", "hold"


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
            return CALL_NEXT, "no_answer"
        if policy == "only_if_i_say":
            return HOLD, "no_answer"
        return DISPATCH, "no_answer"
    if request == "dispatch":
        return DISPATCH, "requested"
    if password_ok:
        return CANCEL, _cancel_reason(request, keypad_cancel)
    if policy == "only_if_i_say":
        return (CALL_NEXT, "wrong_password") if try_next else (HOLD, "wrong_password")
    return DISPATCH, "wrong_password"


def _confirm(answered, password_ok, request, keypad_cancel):
    # Panic and SOS: someone asked for help, so anything short of a verified
    # cancel sends it. Calling further contacts would only delay that.
    if not answered:
        return DISPATCH, "no_answer"
    if not password_ok:
        return DISPATCH, "wrong_password"
    if request == "cancel" or (keypad_cancel and request != "dispatch"):
        return CANCEL, _cancel_reason(request, keypad_cancel)
    return DISPATCH, "confirmed" if request == "dispatch" else "not_cancelled"
