# The software AES (crypto/aes_soft.py) with 24-byte keys, as a hub with an
# AES-192 DC-09 key runs it, under both interpreters: FIPS-197's published
# vectors, and a CBC message whose ciphertext `cryptography` made (random
# blocks and messages against `cryptography` on both runtimes:
# host_tests/uplink/test_aes192_cryptography.py).
import binascii

from crypto import aes_soft
from uplink import dc09, dc09_answer, dc09_cbc

h = binascii.unhexlify
PLAIN = h("00112233445566778899aabbccddeeff")
# FIPS-197 appendix C: the key 000102... of each length, the same plaintext.
FIPS = ((16, "69c4e0d86a7b0430d8cdb78070b4c55a"),
        (24, "dda97ca4864cdfe06eaf70a0ec0d7191"),
        (32, "8ea2b7ca516745bfeafc49904b496089"))
KEY24 = "0123456789ABCDEF01234567"
# cryptography's AES-192-CBC, zero IV, of bytes 0..47 under KEY24's characters.
CBC24 = h("918ecc0235ea0af8d8c353997e78572352dc89f2eca4eed33449b78ed05c98d3"
          "b2fcaaf18809d2d1eeff3c0b79a93110")
T = 1764158400


def test_fips197_appendix_c_encrypt_and_decrypt():
    for n, want in FIPS:
        aes = aes_soft.SoftAES(bytes(range(n)))
        out = bytearray(16)
        aes.encrypt_into(PLAIN, out)
        assert bytes(out) == h(want), n
        back = bytearray(16)
        aes.decrypt_into(out, back)
        assert bytes(back) == PLAIN, n


def test_fips197_c2_key_schedule_last_words():
    # FIPS-197 A.2 (AES-192 key 8e73b0f7...): w[48..51], the last round key.
    aes = aes_soft.SoftAES(h("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"))
    assert bytes(aes._rk[-16:]) == h("e98ba06f448c773c8ecc720401002202")


def test_wrong_key_lengths_are_refused():
    for n in (0, 15, 17, 23, 25, 31, 33):
        try:
            aes_soft.SoftAES(bytes(n))
        except ValueError:
            continue
        assert False, n


def test_cbc_matches_cryptography_vector():
    data = bytes(range(48))
    key = dc09_cbc.check_key(KEY24)
    assert dc09_cbc.encrypt(key, data) == CBC24
    assert dc09_cbc.decrypt(key, CBC24) == data
    assert aes_soft.CBC(key, 2, bytes(16)).encrypt(data) == CBC24
    try:
        aes_soft.CBC(key, 1, bytes(16))       # ECB: not what DC-09 uses
    except ValueError:
        return
    assert False


def test_cbc_refuses_partial_blocks():
    c = aes_soft.CBC(b"k" * 24, 2, bytes(16))
    for op in (c.encrypt, c.decrypt):
        try:
            op(bytes(17))
        except ValueError:
            continue
        assert False


def test_check_key_takes_24_characters():
    assert dc09_cbc.check_key(KEY24) == KEY24.encode()
    assert dc09_cbc.check_key(KEY24.lower()) == KEY24.lower().encode()
    for bad in ("0123456789ABCDEF0123456", "0123456789ABCDEF012345678",
                "0123456789ABCDEF0123456G", " 123456789ABCDEF01234567"):
        try:
            dc09_cbc.check_key(bad)
        except ValueError as e:
            assert "24" in str(e)
            continue
        assert False, bad


def test_an_aes192_frame_and_answer_roundtrip():
    key = dc09_cbc.check_key(KEY24)
    sig = {"qualifier": "E", "event": 130, "seq": 17, "zone": 5}
    m = dc09.message("ADM-CID", 17, "12AB", key, None, "0", dc09.content(sig, 4242), T)
    assert m[9:19] == b'"*ADM-CID"'
    plain = dc09_cbc.decrypt(key, h(m[m.index(b"[") + 1:-1])).decode()
    assert plain.split("|")[1] == "1130 01 005][Isig 4242.17]_12:00:00,11-26-2025"
    text = b"00000000]_12:00:00,11-26-2025"
    text = b"0" * (-len(text) % 16) + text
    ack = dc09.frame('"*ACK"0017L0#12AB[' + binascii.hexlify(dc09_cbc.encrypt(key, text))
                     .decode().upper())
    assert dc09_answer.parse(ack, key) == ("ACK", 17, "12AB", T)
    assert dc09_answer.parse(ack, dc09_cbc.check_key("76543210FEDCBA9876543210")) is None
