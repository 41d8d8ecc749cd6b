"""What a stock panel's SIA-DCS event code means to our plans, which are
written for Contact ID (firmware/panel/contact_id_table.py): the one table
that says it. A code not here is still stored and acked, and counted and
logged as unmapped (monitor/dc09/intake.py), never acted on by guesswork.

One code a line: the SIA code (SIA DC-03), the Contact ID event it is, with
its qualifier (E new event, R restore), and what the number after the code
names: zone, user or - (an area, or nothing). The SIA side agrees with
pysiaalarm's code list and the Contact ID side with the Contact ID table
(host_tests/monitor/test_dc09_sia_codes.py holds them to both)."""

_TABLE = """
BA E130 zone
BH R130 zone
BR R130 zone
BV E130 -
TA E137 zone
TR R137 zone
FA E110 zone
FH R110 zone
FR R110 zone
PA E120 zone
PH R120 zone
PR R120 zone
MA E100 zone
MH R100 zone
MR R100 zone
QA E100 zone
HA E121 zone
HH R121 zone
HR R121 zone
OP E401 user
OA E401 -
OR E401 user
CL R401 user
CA R401 -
OC E406 user
BC E406 user
EA E374 zone
BB E570 zone
BU R570 zone
XT E384 zone
XR R384 zone
JA E461 -
YC E350 -
YK R350 -
RR E305 -
AT E301 -
AR R301 -
RP E602 -
"""
# SIA HA (holdup) is "silent alarm, user under duress" in SIA DC-03, and
# pysiaalarm reads Contact ID 121 (duress) as HA: the duress plan, whose
# silence protects the person. Its number names a zone in SIA, not a user.

TABLE = {}
for _line in _TABLE.split("\n"):
    if _line:
        _sia, _cid, _field = _line.split(" ")
        TABLE[_sia] = (_cid, None if _field == "-" else _field)


def lookup(code):
    """(Contact ID code such as "E130", "zone" | "user" | None) for a SIA
    code, or None when the table has no row for it."""
    return TABLE.get(code)
