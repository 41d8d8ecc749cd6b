"""A panel's side of SIA DC-09, for the tests: messages built from the
standard with pysiaalarm's own pieces (its CRC and its AES-CBC encryption,
the same code Home Assistant receives with), each checked to read back
through pysiaalarm's parser before it is sent, and a TCP link that sends
them and reads the answers. pysiaalarm has no sender of its own for panels.
(A module of its own: test files import it, never conftest.)"""
import datetime
import socket

from pysiaalarm import SIAAccount, SIAEvent

KEYS = {16: "0123456789ABCDEF", 24: "0123456789abcdef01234567",
        32: "00112233445566778899AABBCCDDEEFF"}


def stamp(when=None):
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return when.strftime("_%H:%M:%S,%m-%d-%Y")


def frame(text):
    """`\\n` CRC length text `\\r`: text is everything from the first quote."""
    return ("\n%s%04X%s\r" % (SIAEvent._crc_calc(text), len(text), text)).encode("ascii")


def encrypt(account, key, text):
    """pysiaalarm's AES-CBC (zero IV, the key's characters as its bytes) of
    the standard's pad-then-| content, in hex."""
    return SIAEvent(sia_account=SIAAccount(account, key)).encrypt_content("|" + text)


def message(account, seq, content, key=None, kind="ADM-CID", receiver="R0", line="L0",
            when=None, timestamp=True, check=True, account_inside=True):
    """One DC-09 frame; content is what follows the account inside `[`, e.g.
    "1130 01 003][Isig 5.7]". account_inside=False: the data without the
    standard's optional `#<account>|` (as our hub sends it)."""
    text = ("#%s|" % account if account_inside else "") + content + \
        (stamp(when) if timestamp else "")
    if key:
        head = '"*%s"%04d%s%s#%s[' % (kind, seq, receiver, line, account)
        raw = frame(head + encrypt(account, key, text))
    else:
        head = '"%s"%04d%s%s#%s[' % (kind, seq, receiver, line, account)
        raw = frame(head + text)
    if check:
        event = SIAEvent.from_line(raw.decode().strip(), {account: SIAAccount(account, key)})
        assert event.valid_message, raw
    return raw


def contact_id(account, epoch, seq, qualifier, event, number, key=None, dc09_seq=None,
               **kw):
    """A Contact ID event as our hubs send it: `[Isig <epoch>.<seq>]` names the signal."""
    q = {"E": 1, "R": 3, "P": 6}[qualifier]
    content = "%d%03d 01 %03d][Isig %d.%d]" % (q, event, number, epoch, seq)
    return message(account, dc09_seq or ((seq - 1) % 9999) + 1, content, key=key, **kw)


def null(account, seq, key=None, **kw):
    """The link test (supervision) message."""
    return message(account, seq, "]", key=key, kind="NULL", **kw)


def answer_of(raw, account=None, key=None):
    """(type, sequence, event) of an answer, read by pysiaalarm's own matcher:
    type ACK, NAK or DUH (encrypted answers are decrypted with the key)."""
    import re
    text = raw.decode("ascii").strip()
    m = re.match(r'([0-9A-F]{4})([0-9A-F]{4})"(\*?)(ACK|NAK|DUH)"(\d{4})', text)
    assert m, raw
    assert SIAEvent._crc_calc(text[8:]) == m.group(1), "bad CRC on our answer %r" % raw
    assert int(m.group(2), 16) == len(text[8:]), "bad length on our answer %r" % raw
    if m.group(3):
        hexpart = text[text.index("[") + 1:]
        plain = SIAEvent(sia_account=SIAAccount(account, key))
        plain.encrypted_content = hexpart
        plain.decrypt_content()
        return m.group(4), m.group(5), plain.content
    return m.group(4), m.group(5), text


class Link:
    """A panel's TCP connection to a receiver."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, raw):
        self.sock.sendall(raw)

    def answer(self):
        """The next answer, up to its closing \\r; None if the receiver closed."""
        while b"\r" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\r")
        return raw + b"\r"

    def ask(self, raw):
        self.send(raw)
        return self.answer()

    def close(self):
        self.sock.close()
