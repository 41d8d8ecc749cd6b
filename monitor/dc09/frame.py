"""One SIA DC-09 message in, its verdict and answer out. Pure: no socket, no
store; the account is looked up through the function the caller passes.

pysiaalarm (the library behind Home Assistant's SIA integration) parses,
decrypts and checks the message and writes the ACK and NAK. Two answers are
written here, in pysiaalarm's own format: the DUH, which pysiaalarm cannot
write for a message without a known account, and every answer to a message
that carries extended data, where pysiaalarm would echo the account's key
back as a `[K...]` field (in clear text in a DUH).

Our hubs' contract (docs/protocol.md, DC-09): ADM-CID content
`<Q><EEE> <PP> <ZZZ>`, one extended-data field `[Isig <epoch>.<seq>]` naming
the hub's signal, a `_HH:MM:SS,MM-DD-YYYY` UTC timestamp, and link tests as
NULL messages."""
import re

from pysiaalarm import SIAAccount, SIAEvent
from pysiaalarm.data.data import SIA_CODES
from pysiaalarm.data.sia_codes import SIACode
from pysiaalarm.errors import EventFormatError, NoAccountError
from pysiaalarm.utils import MAIN_MATCHER, MessageTypes, ResponseType

from monitor.dc09 import sia_codes
from panel import contact_id_table as CID_TABLE

# A message of ours is about 130 bytes encrypted; the standard's length field
# allows 4095. Anything longer is refused before it is parsed.
MAX_LINE = 1024

# Contact ID qualifiers: 1 new event (opening), 3 restore (closing), 6 status.
QUALIFIERS = {"1": "E", "3": "R", "6": "P"}
_SIGNAL_ID = re.compile(r"Isig (\d{1,10})\.(\d{1,10})$")
_SIA_CODE = re.compile(r"[A-Z]{2}$")

SIGNAL, SUPERVISION, REFUSED = "signal", "supervision", "refused"

# The time stamps accepted: pysiaalarm's default (seconds behind, ahead of our clock).
WINDOW = (40, 20)


class Verdict:
    """What a message is and what to answer.

    kind: SIGNAL (hub, body), SUPERVISION (hub) or REFUSED (reason).
    answer: the bytes to send back: for SIGNAL and SUPERVISION the ACK, to be
    sent only once what the message says is committed.
    """

    def __init__(self, kind, answer, reason=None, hub=None, body=None, account=None):
        self.kind = kind
        self.answer = answer
        self.reason = reason
        self.hub = hub
        self.body = body
        self.account = account
        self.outcome = None     # what the intake made of it (its counter's name)
        self.panel = False      # a stock panel's signal: no [Isig], deduplicated by window
        self.unmapped = None    # a panel's code no plan knows: stored, counted, logged

    def __repr__(self):
        return "Verdict(%s, %s, hub=%s, account=%s)" % (self.kind, self.reason, self.hub,
                                                        self.account)


def read(raw, account_of, window=WINDOW):
    """The Verdict on one received frame (bytes, `\\n`...`\\r`).

    account_of(number) -> (hub, key or None), or None for an unknown account.
    window: (seconds before, seconds after) our clock a time stamp may be.
    Reasons refused: oversize, malformed, bad_crc, bad_length, unknown_account,
    plain_for_keyed, no_key, bad_key, no_timestamp, out_of_window (answered
    NAK, with our time), unsupported, bad_event. Every other refusal is
    answered DUH. An ADM-CID message without [Isig], or a SIA-DCS one, is a
    stock panel's: a SIGNAL with verdict.panel set (and verdict.unmapped
    naming its code when no plan knows it).
    """
    if len(raw) > MAX_LINE:
        return _refused("oversize")
    try:
        line = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return _refused("malformed")
    head = MAIN_MATCHER.match(line)
    if head is None:
        return _refused("malformed")
    h = head.groupdict()
    echo = (h["sequence"], h["receiver"] or "", h["line"], h["account"])
    # The CRC and length cover everything from the first quote to the end.
    if SIAEvent._crc_calc(line[8:]) != h["crc"]:
        return _refused("bad_crc", *echo)
    if int(h["length"], 16) != len(line[8:]):
        return _refused("bad_length", *echo)
    number = (h["account"] or "").upper()
    found = account_of(number) if number else None
    if found is None:
        return _refused("unknown_account", *echo)
    hub, key = found
    encrypted = bool(h["encrypted_flag"])
    if key and not encrypted:
        return _refused("plain_for_keyed", *echo, hub=hub)
    if encrypted and not key:
        return _refused("no_key", *echo, hub=hub)
    try:
        sia = SIAAccount(h["account"], key, allowed_timeband=tuple(window))
        event = SIAEvent.from_line(line, {h["account"]: sia})
    except (EventFormatError, NoAccountError, ValueError):
        # The CRC held, so this is what was sent: content that does not read
        # as DC-09 once decrypted was encrypted with another key.
        return _refused("bad_key" if encrypted else "malformed", *echo, hub=hub)
    if event.receiver is None:
        event.receiver = ""     # pysiaalarm would answer "None" for a missing receiver
    if encrypted and event.timestamp is None:
        # Without a time the message could be replayed whenever: the standard
        # requires one with encryption.
        return _refused("no_timestamp", *echo, hub=hub)
    # Our [Isig ...] field is read from event.x_data: with extended data left
    # in, pysiaalarm would add the account's key to its answer.
    event.extended_data = None
    if not event.valid_timestamp:
        return Verdict(REFUSED, event.create_response(), "out_of_window", hub=hub,
                       account=number)
    if _unknown_sia_code(event):
        # pysiaalarm answers DUH to a SIA code not in its list, but a panel's
        # own code is still an event from the account: stored and acked,
        # counted as unmapped. Named here, pysiaalarm answers it as any other.
        event.sia_code = SIACode(event.code, "Unknown", "", "")
    if event.response != ResponseType.ACK:
        return _refused("malformed", *echo, hub=hub)      # e.g. a NULL without content
    if event.message_type == MessageTypes.NULL:
        return Verdict(SUPERVISION, event.create_response(), hub=hub, account=number)
    if event.message_type == MessageTypes.ADMCID:
        body = _contact_id(event, number)
    elif event.message_type == MessageTypes.SIADCS:
        body = _sia(event, number)
    else:
        return _refused("unsupported", *echo, hub=hub)
    if body is None:
        return _refused("bad_event", *echo, hub=hub)
    verdict = Verdict(SIGNAL, event.create_response(), hub=hub, body=body, account=number)
    verdict.panel = "epoch" not in body
    code = body["signal"]["code"]
    if verdict.panel and (_cid_event(code) is None or CID_TABLE.spec(_cid_event(code)) is None):
        verdict.unmapped = code
    return verdict


def _unknown_sia_code(event):
    return event.message_type == MessageTypes.SIADCS and event.code_not_found \
        and _SIA_CODE.match(event.code or "") is not None


def _contact_id(event, number):
    """The body of an ADM-CID message: our hub's signal when it names one
    with [Isig], else a stock panel's, under the message's sequence number."""
    qualifier = QUALIFIERS.get(event.event_qualifier)
    if qualifier is None:
        return None
    number_field = int(event.ri)
    code = int(event.event_type)
    sig = {"code": "%s%03d" % (qualifier, code), "event": code, "qualifier": qualifier}
    sig["user" if CID_TABLE.by_user(code) else "zone"] = number_field
    dc09 = {"account": number, "partition": event.partition, "sequence": event.sequence,
            "time": event.timestamp.isoformat() if event.timestamp else None}
    ident = _SIGNAL_ID.match(event.x_data or "")
    if ident is None:
        sig["seq"] = int(event.sequence)
        return {"signal": sig, "dc09": dict(dc09, format="ADM-CID")}
    sig["seq"] = int(ident.group(2))
    return {"epoch": int(ident.group(1)), "signal": sig, "dc09": dc09}


def _sia(event, number):
    """The body of a stock panel's SIA-DCS message: its code as the Contact
    ID event the table (sia_codes.py) makes it, the SIA code beside it; a
    code not in the table as itself. What the number after the code names
    comes from the table, else from the SIA code list; a number that names
    neither is kept as it came, as "detail"."""
    row = sia_codes.lookup(event.code)
    if row is not None:
        code, field = row
        sig = {"code": code, "event": int(code[1:]), "qualifier": code[0]}
    else:
        known = SIA_CODES.get(event.code)
        code, field = event.code, ("user" if known and known.concerns == "User number"
                                   else "zone")
        sig = {"code": code}
    sig["sia"] = event.code
    sig["seq"] = int(event.sequence)
    after = event.message
    if field and after and after.isdigit():
        sig[field] = int(after)
    elif after:
        sig["detail"] = after
    if event.id and event.id.isdigit():
        sig.setdefault("user", int(event.id))
    dc09 = {"account": number, "format": "SIA-DCS", "partition": event.ri,
            "sequence": event.sequence,
            "time": event.timestamp.isoformat() if event.timestamp else None}
    if event.ti:
        dc09["panel_time"] = event.ti
    return {"signal": sig, "dc09": dc09}


def _cid_event(code):
    return int(code[1:]) if len(code) == 4 and code[0] in "ERP" and code[1:].isdigit() else None


def _refused(reason, sequence="0000", receiver="", line="L0", account=None, hub=None):
    return Verdict(REFUSED, duh(sequence, receiver, line, account), reason, hub=hub,
                   account=account)


def duh(sequence="0000", receiver="", line="L0", account=None):
    """The DUH answer as pysiaalarm writes it: `"DUH"<seq><R><L>#<account>[]`,
    echoing what could be read of the message (nothing of a garbled one)."""
    res = '"DUH"%s%s%s%s[]' % (sequence, receiver, line, "#" + account if account else "")
    return ("\n%s%04X%s\r" % (SIAEvent._crc_calc(res), len(res), res)).encode("ascii")
