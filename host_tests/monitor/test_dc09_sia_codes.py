"""The SIA-DCS to Contact ID table (monitor/dc09/sia_codes.py) against both
sides it joins: pysiaalarm's SIA code list (the code exists, and its number
names what the table says) and our Contact ID table (the event exists, so a
plan or the console knows it), and the plans its alarms open."""
import pytest
from pysiaalarm.data.data import SIA_CODES

from dc09_panel import message
from monitor import plans
from monitor.dc09 import frame, sia_codes
from panel import contact_id_table as CID_TABLE

CONCERNS = {"Zone or point": "zone", "User number": "user"}


@pytest.mark.parametrize("sia", sorted(sia_codes.TABLE))
def test_every_row_joins_a_known_sia_code_to_a_known_contact_id_event(sia):
    cid, field = sia_codes.lookup(sia)
    assert sia in SIA_CODES, "pysiaalarm does not know %s" % sia
    assert CONCERNS.get(SIA_CODES[sia].concerns) == field, (sia, SIA_CODES[sia].concerns)
    assert cid[0] in "ER" and CID_TABLE.spec(int(cid[1:])) is not None, cid


def test_the_alarms_open_the_plans_a_panel_installer_expects():
    opened = {sia: plans.classify({"code": cid}) for sia, (cid, _) in sia_codes.TABLE.items()}
    assert opened["BA"] == plans.Meaning(plans.OPEN, "burglar", "police")
    assert opened["TA"] == plans.Meaning(plans.OPEN, "burglar", "police")
    assert opened["FA"] == plans.Meaning(plans.OPEN, "sos", "fire")
    assert opened["MA"] == plans.Meaning(plans.OPEN, "sos", "medical")
    assert opened["PA"] == plans.Meaning(plans.OPEN, "panic", "police")
    assert opened["HA"] == plans.Meaning(plans.OPEN, "duress", "police")
    assert opened["OC"] == opened["BC"] == plans.Meaning(plans.KEYPAD_CANCEL)
    assert opened["RP"] == plans.Meaning(plans.TEST_REPORT)
    # Restores, openings and closings are stored only: no plan starts on them.
    for sia in ("BR", "BH", "FR", "PR", "OP", "CL", "CA", "OA"):
        assert opened[sia].kind == plans.STORE, sia
    assert sia_codes.lookup("YT") is None and sia_codes.lookup("") is None


def _read(content, kind="SIA-DCS"):
    return frame.read(message("4321", 12, content, kind=kind, check=False),
                      lambda n: ("hub-9", None))


@pytest.mark.parametrize("content,signal", [
    ("Nri1/BA003]", {"code": "E130", "zone": 3, "sia": "BA"}),
    ("NOP5]", {"code": "E401", "user": 5, "sia": "OP"}),
    ("Nid5OP5]", {"code": "E401", "user": 5, "sia": "OP"}),
    ("NHA2]", {"code": "E121", "zone": 2, "sia": "HA"}),
    ("NRP]", {"code": "E602", "sia": "RP"}),
    ("NAT]", {"code": "E301", "sia": "AT"}),            # a stock panel's AC loss
    ("NAR]", {"code": "R301", "sia": "AR"}),
    ("NBV2]", {"code": "E130", "sia": "BV", "detail": "2"}),     # an area, kept
    ("NYT]", {"code": "YT", "sia": "YT"}),
    ("NQZ17]", {"code": "QZ", "sia": "QZ", "zone": 17}),
    ("NBA]", {"code": "E130", "sia": "BA"}),
])
def test_a_sia_dcs_message_reads_as_its_contact_id_signal(content, signal):
    verdict = _read(content)
    assert verdict.kind == frame.SIGNAL and verdict.panel, verdict
    sig = dict(verdict.body["signal"])
    assert sig.pop("seq") == 12
    sig.pop("event", None), sig.pop("qualifier", None)
    assert sig == signal
    assert "epoch" not in verdict.body and verdict.body["dc09"]["format"] == "SIA-DCS"
    assert verdict.unmapped == (None if signal["code"][0] in "ER" else signal["sia"])


def test_what_follows_the_code_is_kept_when_it_is_not_a_number():
    verdict = _read("NBAfront door]")
    assert verdict.kind == frame.SIGNAL
    assert verdict.body["signal"]["detail"] == "front door"
    assert "zone" not in verdict.body["signal"]


def test_adm_cid_without_isig_is_a_panels_signal_and_with_it_a_hubs():
    stock = _read("1130 01 003]", kind="ADM-CID")
    assert stock.kind == frame.SIGNAL and stock.panel and stock.unmapped is None
    assert stock.body["signal"] == {"code": "E130", "event": 130, "qualifier": "E",
                                    "seq": 12, "zone": 3}
    assert stock.body["dc09"]["format"] == "ADM-CID"
    unknown = _read("1302 01 000]", kind="ADM-CID")
    assert unknown.kind == frame.SIGNAL and unknown.unmapped == "E302"
    ac_loss = _read("1301 01 000]", kind="ADM-CID")      # a stock panel on its battery
    assert ac_loss.unmapped is None and ac_loss.body["signal"]["code"] == "E301"
    ours = _read("1130 01 003][Isig 5.7]", kind="ADM-CID")
    assert ours.kind == frame.SIGNAL and not ours.panel and ours.body["epoch"] == 5


def test_a_status_event_the_contact_id_table_knows_is_not_unmapped():
    status = _read("6602 01 000]", kind="ADM-CID")
    assert status.kind == frame.SIGNAL and status.body["signal"]["code"] == "P602"
    assert status.unmapped is None
