"""frame.read on its own (no socket, no store): whatever bytes come, a verdict
and an answer the standard knows, never an exception; and what it makes of
each Contact ID event the panel can raise."""
import string

from hypothesis import given, settings, strategies as st

from dc09_panel import KEYS, answer_of, contact_id, null
import pytest

from monitor.dc09 import frame
from panel import contact_id_table as CID_TABLE

pytestmark = pytest.mark.fast

ACCOUNTS = {"12AB": ("hub-1", None), "CAFE": ("hub-2", KEYS[32])}


def read(raw):
    return frame.read(raw, ACCOUNTS.get)


def _check(verdict):
    assert verdict.kind in (frame.SIGNAL, frame.SUPERVISION, frame.REFUSED)
    kind = answer_of(verdict.answer, "CAFE", KEYS[32])[0]
    assert kind == ("ACK" if verdict.kind != frame.REFUSED else
                    "NAK" if verdict.reason == "out_of_window" else "DUH")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_get_a_verdict_and_an_answer(raw):
    _check(read(raw))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([
    contact_id("12AB", 5, 9, "E", 130, 3), contact_id("CAFE", 5, 9, "E", 130, 3, key=KEYS[32]),
    null("12AB", 3), null("CAFE", 4, key=KEYS[32])]),
    st.integers(min_value=0, max_value=200), st.sampled_from(list(string.printable)),
    st.booleans())
def test_a_message_damaged_anywhere_gets_a_verdict_and_an_answer(raw, at, char, cut):
    at = min(at, len(raw))
    damaged = raw[:at] + (b"" if cut else char.encode()) + raw[at + 1:]
    _check(read(damaged))


def test_every_contact_id_event_the_panel_raises_reads_back_with_its_zone_or_user():
    for spec in CID_TABLE.events():
        event = spec[0]
        for q in ("E", "R"):
            for account, key, inside in (("12AB", None, True), ("CAFE", KEYS[32], True),
                                         ("12AB", None, False), ("CAFE", KEYS[32], False)):
                v = read(contact_id(account, 42, 17, q, event, 7, key=key,
                                    account_inside=inside))
                assert v.kind == frame.SIGNAL, (q, event, v)
                sig = v.body["signal"]
                assert sig["code"] == "%s%03d" % (q, event) and sig["seq"] == 17
                assert v.body["epoch"] == 42 and v.hub == ACCOUNTS[account][0]
                who = "user" if event == 121 or 400 <= event < 500 else "zone"
                assert sig[who] == 7 and len(sig) == 5, sig


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(['"ADM-CID"0001R0L0#12AB[', '"NULL"0001L0#12AB[', '"SIA-DCS"0001L0#12AB[',
                        '"*ADM-CID"0001R0L0#CAFE[', '"*NULL"0001L0#CAFE[']),
       st.text(alphabet=string.printable, max_size=120))
def test_any_content_behind_a_good_crc_gets_a_verdict_and_an_answer(head, content):
    from dc09_panel import frame as framed
    _check(read(framed(head + content)))
    if head.startswith('"*'):       # what a wrong key decrypts to, in effect
        _check(read(framed(head + content.encode().hex().upper())))


def test_the_answer_echoes_the_receiver_and_line_as_sent():
    for receiver, line in (("R0", "L0"), ("R1F", "L7"), ("", "L0")):
        for account, key in (("12AB", None), ("CAFE", KEYS[32])):
            v = read(contact_id(account, 1, 5, "E", 130, 1, key=key, receiver=receiver,
                                line=line))
            assert v.kind == frame.SIGNAL
            head = v.answer.decode()[9:]
            assert head.startswith('"%sACK"0005%s%s#%s[' % ("*" if key else "", receiver,
                                                           line, account)), v.answer
            assert "None" not in v.answer.decode()
