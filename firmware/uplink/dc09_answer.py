# A DC-09 receiver's answer to the hub: ACK, NAK or DUH ("*ACK" encrypted).
#
#   \n CRC LLLL "ACK" SSSS [Rrrr] Lnnn #ACCT [ ... ] _HH:MM:SS,MM-DD-YYYY \r
#
# An answer counts only with a good CRC and length; an encrypted one only
# when it decrypts under the account's key to the standard's "...]" content,
# which is what makes a forged ACK fail. NAK carries the receiver's time
# (pysiaalarm sends it with sequence 0000 and no account): the hub may stamp
# its DC-09 messages with it, never trust it otherwise.
from uplink import dc09, dc09_cbc


def parse(raw, key=None):
    """(kind, seq_no, account or None, receiver's unix time or None) of one
    answer (bytes, without the closing CR); kind is "ACK", "NAK", "DUH" (or
    what else the receiver said); None when it is damaged or does not decrypt."""
    try:
        raw = bytes(raw).strip()
        body = raw[8:]
        if int(raw[:4], 16) != dc09.crc16(body) or int(raw[4:8], 16) != len(body):
            return None
        body = body.decode()
        q = body.index('"', 1)
        kind = body[1:q]
        seq = int(body[q + 1:q + 5])
        rest = body[q + 5:]
        i = rest.index("[")
        h = rest.find("#", 0, i)
        account = rest[h + 1:i] if h >= 0 else None
        text = rest[i + 1:]
        if kind[:1] == "*":
            if key is None:
                return None
            import binascii
            text = dc09_cbc.decrypt(key, binascii.unhexlify(text)).decode()
            kind = kind[1:]
        j = text.index("]")
        return kind, seq, account, parse_stamp(text[j + 1:])
    except Exception:            # ValueError, UnicodeError, IndexError: not an answer
        return None


def parse_stamp(text):
    """Unix seconds of the "_HH:MM:SS,MM-DD-YYYY" in text (after any
    extended data), or None."""
    i = text.rfind("_")
    s = text[i + 1:]
    if i < 0 or len(s) != 19 or s[2] != ":" or s[5] != ":" or s[8] != "," \
            or s[11] != "-" or s[14] != "-":
        return None
    y, mo, d = int(s[15:]), int(s[9:11]), int(s[12:14])
    # Days from 1970-01-01 of a proleptic Gregorian date (the year from March).
    y -= mo <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + int(s[:2]) * 3600 + int(s[3:5]) * 60 + int(s[6:8])
