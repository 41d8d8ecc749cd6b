# DC-09 frames, CBC and answers, under both runtimes (pysiaalarm, the outside
# oracle, is CPython-only: host_tests/uplink/test_dc09_pysiaalarm.py).
import binascii
from uplink import dc09, dc09_answer, dc09_cbc

T = 1764158400          # 2025-11-26 12:00:00 UTC
KEY16 = dc09_cbc.check_key("0123456789ABCDEF")
SIG = {"code": "E130", "event": 130, "qualifier": "E", "seq": 17, "zone": 5, "name": "hall"}


def test_crc16_arc_check_value():
    # The CRC catalogue's check value of CRC-16/ARC over "123456789".
    assert dc09.crc16(b"123456789") == 0xBB3D
    assert dc09.crc16(b"") == 0


def test_plain_frame_fields():
    m = dc09.message("ADM-CID", dc09.number(17), "12AB", None, None, "0",
                     dc09.content(SIG, 4242), T)
    body = b'"ADM-CID"0017L0#12AB[1130 01 005][Isig 4242.17]_12:00:00,11-26-2025'
    assert m == b"\n" + (b"%04X%04X" % (dc09.crc16(body), len(body))) + body + b"\r"
    r = dc09.message("ADM-CID", 3, "12AB", None, "1A", "2", "", T)
    assert b'"ADM-CID"0003R1AL2#12AB[]_12:00:00,11-26-2025\r' in r


def test_content_qualifier_zone_user():
    assert dc09.content({"qualifier": "R", "event": 401, "seq": 9, "user": 3}, 7) \
        == "3401 01 003][Isig 7.9"
    assert dc09.content({"qualifier": "E", "event": 305, "seq": 1, "zone": 0, "name": "x"}, 7) \
        == "1305 01 000][Isig 7.1"
    # The overflow report names neither: 000; an unknown qualifier reports as status (6).
    assert dc09.content({"qualifier": "E", "event": 624, "seq": 2, "lost": [1]}, None) \
        == "1624 01 000][Isig 0.2"
    assert dc09.content({"qualifier": "X", "event": 602, "seq": 2}, 1)[:4] == "6602"


def test_sequence_numbers_wrap_in_1_to_9999():
    assert [dc09.number(s) for s in (1, 9999, 10000, 10001, 19998, 19999)] == \
        [1, 9999, 1, 2, 9999, 1]


def test_encrypted_frame_decrypts_to_pad_bar_content():
    for key in ("0123456789ABCDEF", "0123456789ABCDEF0123456789ABCDEF"):
        k = dc09_cbc.check_key(key)
        m = dc09.message("ADM-CID", 17, "12AB", k, None, "0", dc09.content(SIG, 4242), T)
        assert m[9:28] == b'"*ADM-CID"0017L0#12'
        hexed = m[m.index(b"[") + 1:-1]
        plain = dc09_cbc.decrypt(k, binascii.unhexlify(hexed)).decode()
        pad, text = plain.split("|")
        assert text == "1130 01 005][Isig 4242.17]_12:00:00,11-26-2025"
        assert len(plain) % 16 == 0 and all("A" <= c <= "Z" for c in pad)


def test_check_key_refuses_bad_keys():
    # 24 characters (AES-192) are good: host_tests/uplink/dual_aes192.py.
    for bad in ("0123", "0123456789ABCDEG", "0123456789ABCDEF0", "0123456789ABCDEF0123456",
                "0123456789ABCDEF0123456789ABCDEF0", 12345, None):
        try:
            dc09_cbc.check_key(bad)
        except ValueError:
            continue
        assert False, bad


def test_cbc_chains_blocks():
    k = dc09_cbc.check_key("0123456789ABCDEF")
    c = dc09_cbc.encrypt(k, b"A" * 32)
    assert c[:16] != c[16:]                       # CBC, not ECB
    assert dc09_cbc.decrypt(k, c) == b"A" * 32


# Answers as pysiaalarm 3.2.2 makes them (its create_response, "None" where it
# prints a missing receiver number), captured once.
ACK_PLAIN = b'\nC9E70016"ACK"0018NoneL0#12AB[]\r'
NAK = b'\n94400027"NAK"0000NoneL0A0[]_16:59:20,11-26-2026\r'


def test_answers_plain():
    assert dc09_answer.parse(ACK_PLAIN) == ("ACK", 18, "12AB", None)
    assert dc09_answer.parse(NAK) == ("NAK", 0, None, 1795712360)
    assert dc09_answer.parse(ACK_PLAIN.replace(b"12AB", b"12AC")) is None     # CRC
    assert dc09_answer.parse(b"\n\r") is None
    assert dc09_answer.parse(b"garbage") is None
    body = b'"DUH"0007R1L0#12AB[]'
    duh = b"%04X%04X" % (dc09.crc16(body), len(body)) + body
    assert dc09_answer.parse(duh) == ("DUH", 7, "12AB", None)
    assert dc09_answer.parse(duh[:4] + b"0099" + duh[8:]) is None              # length


def test_answers_encrypted():
    k = KEY16
    text = b"00000000]_12:00:00,11-26-2025"
    text = b"0" * (-len(text) % 16) + text
    body = '"*ACK"0018L0#12AB[' + binascii.hexlify(dc09_cbc.encrypt(k, text)).decode().upper()
    ack = dc09.frame(body)
    assert dc09_answer.parse(ack, k) == ("ACK", 18, "12AB", T)
    # Under another key it does not decrypt to an answer; without one it is refused.
    assert dc09_answer.parse(ack, dc09_cbc.check_key("FEDCBA9876543210")) is None
    assert dc09_answer.parse(ack) is None


def test_stamp_roundtrip():
    for t in (T, 951782400, 1709210096, 4102444799):    # 2000-02-29, 2024-02-29, 2099-12-31
        assert dc09_answer.parse_stamp(dc09.stamp(t)) == t
    assert dc09_answer.parse_stamp("]") is None
