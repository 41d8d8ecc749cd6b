# SIA DC-09 messages the hub sends: one signal as Ademco Contact ID content
# ("ADM-CID", "*ADM-CID" encrypted), or the link test ("NULL").
#
#   \n CRC LLLL "ADM-CID" SSSS [Rrrr] Lnnn #ACCT [ 1130 01 005][Isig 12345.17]_HH:MM:SS,MM-DD-YYYY \r
#
# CRC is CRC-16/ARC of everything from the first quote to the end of the
# content, LLLL its length (hex, upper case). Encrypted, what follows `[` is the
# hex of AES-CBC (uplink/dc09_cbc.py) over pad + "|" + content: the pad
# (letters, never | [ ]) brings it to whole blocks, and the timestamp the
# standard requires is inside. The `I` extended data carries the signal's
# identity (install epoch and seq, as in the MQTT event) so a receiver that
# gets a signal on both paths can tell it is one signal.
#
# Pure: the time and the pad's randomness are passed in.
import time
from uplink import dc09_cbc
from uplink.clock import _EPOCH

_QUALIFIER = {"E": "1", "R": "3", "P": "6"}


def crc16(data):
    """CRC-16/ARC (poly 0xA001 reflected, init 0), as DC-09 specifies."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(body):
    """The whole message for body (str, from the first quote on): bytes."""
    b = body.encode()
    return ("\n%04X%04X" % (crc16(b), len(b))).encode() + b + b"\r"


def stamp(unix_s):
    """DC-09's timestamp, UTC: _HH:MM:SS,MM-DD-YYYY."""
    t = time.gmtime(unix_s - _EPOCH)
    return "_%02d:%02d:%02d,%02d-%02d-%04d" % (t[3], t[4], t[5], t[1], t[2], t[0])


def number(seq):
    """The 4-digit DC-09 sequence number of a signal's seq: 1..9999, round."""
    return (seq - 1) % 9999 + 1


def content(sig, epoch):
    """The Contact ID content of a signal dict, with its identity: str."""
    who = sig.get("zone", sig.get("user", 0))
    if not isinstance(who, int):
        who = 0
    return "%s%03d 01 %03d][Isig %d.%d" % (_QUALIFIER.get(sig.get("qualifier"), "6"),
                                           sig.get("event", 0) % 1000, who % 1000,
                                           epoch or 0, sig["seq"])


def message(kind, seq_no, account, key, receiver, line, data, unix_s, noise=None):
    """One DC-09 message: kind "ADM-CID" or "NULL"; data the content before
    the closing "]" (and its extended data); key None for plain; noise(n) ->
    n random bytes for the pad (os.urandom)."""
    text = data + "]" + stamp(unix_s)
    head = "%04d%sL%s#%s[" % (seq_no, "" if receiver is None else "R" + receiver,
                               line, account)
    if key is None:
        return frame('"%s"%s%s' % (kind, head, text))
    n = -(len(text) + 1) % 16
    if noise is None:
        import os
        noise = os.urandom
    pad = "".join(chr(65 + b % 26) for b in noise(n))
    secret = dc09_cbc.encrypt(key, (pad + "|" + text).encode())
    return frame('"*%s"%s%s' % (kind, head, _hex(secret)))


def _hex(b):
    import binascii
    return binascii.hexlify(b).decode().upper()
