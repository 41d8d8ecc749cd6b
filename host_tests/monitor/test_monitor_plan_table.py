"""plans.py decisions, row by row, without MQTT or a store."""
import pytest

from monitor import plans
from monitor.plans import after_call, classify

pytestmark = pytest.mark.fast

NEXT = dict(more_contacts=True, call_next_contacts=True)
ONLY = dict(more_contacts=False, call_next_contacts=False)


@pytest.mark.parametrize("signal,want", [
    ({"code": "E130"}, ("open", "burglar", "police")),
    ({"code": "E134"}, ("open", "burglar", "police")),
    ({"code": "E137"}, ("open", "burglar", "police")),
    ({"code": "E120"}, ("open", "panic", "police")),
    ({"code": "E120", "sos": "police"}, ("open", "sos", "police")),
    ({"code": "E110", "sos": "fire"}, ("open", "sos", "fire")),
    ({"code": "E100", "sos": "medical"}, ("open", "sos", "medical")),
    ({"code": "E121"}, ("open", "duress", "police")),
    ({"code": "E406"}, ("keypad_cancel", None, None)),
    ({"code": "E602"}, ("test", None, None)),
    ({"code": "E374"}, ("attach", "burglar", None)),
    ({"code": "R130"}, ("store", None, None)),
    ({"code": "E305"}, ("store", None, None)),
    ({"code": "E301"}, ("store", None, None)),      # AC loss: a trouble, no plan
    ({"code": "R301"}, ("store", None, None)),
    ({"code": "E401"}, ("store", None, None)),
    ({"code": 130}, ("store", None, None)),
])
def test_classify(signal, want):
    assert classify(signal) == want


@pytest.mark.parametrize("policy,answered,pw,req,want", [
    ("if_no_one_cancels", False, False, None, ("dispatch", "no_answer")),
    ("if_no_one_cancels", True, False, None, ("dispatch", "wrong_password")),
    ("if_no_one_cancels", True, False, "cancel", ("dispatch", "wrong_password")),
    ("if_no_one_cancels", True, True, "dispatch", ("dispatch", "requested")),
    ("if_no_one_cancels", True, False, "dispatch", ("dispatch", "requested")),
    ("if_no_one_cancels", True, True, None, ("cancel", "verified")),
    ("if_no_one_cancels", True, True, "cancel", ("cancel", "requested")),
    ("only_if_i_say", False, False, None, ("hold", "no_answer")),
    ("only_if_i_say", True, False, None, ("hold", "wrong_password")),
    ("only_if_i_say", True, True, "dispatch", ("dispatch", "requested")),
    ("only_if_i_say", True, False, "dispatch", ("dispatch", "requested")),
    ("only_if_i_say", True, True, None, ("cancel", "verified")),
])
def test_burglar(policy, answered, pw, req, want):
    assert after_call("burglar", policy, answered, pw, req, False, **ONLY) == want


def test_burglar_next_contact_before_giving_up():
    assert after_call("burglar", "if_no_one_cancels", False, False, None, False, **NEXT) == \
        ("call_next", "no_answer")
    assert after_call("burglar", "only_if_i_say", True, False, None, False, **NEXT) == \
        ("call_next", "wrong_password")
    # Only when the account asks for it.
    assert after_call("burglar", "if_no_one_cancels", False, False, None, False,
                      more_contacts=True, call_next_contacts=False) == ("dispatch", "no_answer")


@pytest.mark.parametrize("plan", ["panic", "sos"])
@pytest.mark.parametrize("policy", ["if_no_one_cancels", "only_if_i_say"])
@pytest.mark.parametrize("answered,pw,req,keypad,want", [
    (False, False, None, False, ("dispatch", "no_answer")),
    (False, False, None, True, ("dispatch", "no_answer")),
    (True, False, "cancel", False, ("dispatch", "wrong_password")),
    (True, False, "cancel", True, ("dispatch", "wrong_password")),
    (True, True, "dispatch", False, ("dispatch", "confirmed")),
    (True, True, "dispatch", True, ("dispatch", "confirmed")),
    (True, True, None, False, ("dispatch", "not_cancelled")),
    (True, True, "cancel", False, ("cancel", "requested")),
    (True, True, None, True, ("cancel", "keypad_cancel")),
])
def test_panic_and_sos_ignore_the_policy_and_next_contacts(plan, policy, answered, pw, req,
                                                           keypad, want):
    assert after_call(plan, policy, answered, pw, req, keypad, **NEXT) == want


def test_keypad_cancel_needs_the_right_password_for_burglar():
    assert after_call("burglar", "if_no_one_cancels", True, True, None, True, **ONLY) == \
        ("cancel", "keypad_cancel")
    assert after_call("burglar", "if_no_one_cancels", True, False, None, True, **ONLY) == \
        ("dispatch", "wrong_password")
    assert after_call("burglar", "if_no_one_cancels", False, False, None, True, **ONLY) == \
        ("dispatch", "no_answer")


def test_duress_and_trouble_place_no_calls():
    for plan in ("duress", "trouble"):
        with pytest.raises(ValueError):
            after_call(plan, "if_no_one_cancels", True, True, "cancel", True, **ONLY)


# ---- one table of Contact ID facts, read by the hub and the service ----

def test_the_hub_and_the_service_read_one_table():
    from panel import contact_id as CID
    from panel import contact_id_table as CID_TABLE
    from uplink import outbox
    known = CID_TABLE.events()
    assert [e[0] for e in known] == sorted(e[0] for e in known)
    for event, rank, plan, service, words in known:
        assert outbox.priority({"qualifier": "E", "event": event}) == rank
        assert outbox.priority({"qualifier": "R", "event": event}) == CID.LOW
        kind = classify({"code": CID.code("E", event)})
        if plan in ("burglar", "panic", "duress", "sos"):
            assert kind == ("open", plan, service)
        assert plans.words(CID.code("E", event)).startswith(words.split("|")[0].split(", ")[0])
    # Every event the panel can report has a row.
    constants = {v for k, v in vars(CID).items()
                 if k.isupper() and isinstance(v, int) and k not in ("ALARM", "TROUBLE", "LOW")}
    assert constants <= {e[0] for e in known}


def test_an_operator_reads_words_with_the_code_beside_them():
    from monitor.plans import words
    assert words("E134", "front_door") == "Burglary \u2014 front door (entry/exit) E134"
    assert words("E459") == "Recent closing: armed less than 2 minutes before E459"
    assert words("E406", "owner") == "Keypad cancel by owner E406"
    assert words("R401") == "Closing (arm) R401"
    assert words("R130") == "Burglary restored R130"
    assert words("E301") == "Mains power lost E301"
    assert words("R301") == "Mains power restored R301"
    assert words("E999") == "Unknown event E999"
