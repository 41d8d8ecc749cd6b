# AES-128 and AES-CCM under both interpreters, against published vectors.
import binascii

from crypto import aes_ecb, aes_soft, ccm, ccm_host

h = binascii.unhexlify

# RFC 3610 section 8, packet vector #1: 13-byte nonce, 8-byte header, 8-byte MIC.
RFC_KEY = h("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf")
RFC_NONCE = h("00000003020100a0a1a2a3a4a5")
RFC_AAD = h("0001020304050607")
RFC_PLAIN = h("08090a0b0c0d0e0f101112131415161718191a1b1c1d1e")
RFC_CIPHER = h("588c979a61c663d2f066d0c2c0f989806d5f6b61dac384")
RFC_MIC = h("17e8d12cfdf926e0")

# BTHome v2 example (bthome.io/encryption): MAC 54:48:E6:8F:80:A5, counter 00112233.
BT_KEY = h("231d39c1d7cc1ab1aee224cd096db932")
BT_NONCE = h("5448e68f80a5") + b"\xd2\xfc\x41" + h("00112233")


def _soft_only(fn):
    # Run fn with the pure-Python AES even where cryptolib exists.
    saved = aes_ecb._native_aes
    aes_ecb._native_aes = None
    try:
        return fn()
    finally:
        aes_ecb._native_aes = saved


def _block(cipher, hexblock):
    out = bytearray(16)
    cipher.encrypt_into(h(hexblock), out)
    return bytes(out)


def test_fips197_appendix_c1_both_backends():
    key = h("000102030405060708090a0b0c0d0e0f")
    want = h("69c4e0d86a7b0430d8cdb78070b4c55a")
    assert _block(aes_soft.SoftAES(key), "00112233445566778899aabbccddeeff") == want
    assert _block(aes_ecb.new(key), "00112233445566778899aabbccddeeff") == want


def test_fips197_appendix_b():
    key = h("2b7e151628aed2a6abf7158809cf4f3c")
    want = h("3925841d02dc09fbdc118597196a0b32")
    assert _block(aes_soft.SoftAES(key), "3243f6a8885a308d313198a2e0370734") == want


def test_soft_matches_default_backend():
    key = bytes(range(100, 116))
    soft = aes_soft.SoftAES(key)
    other = aes_ecb.new(key)
    block = bytearray(16)
    a = bytearray(16)
    b = bytearray(16)
    for i in range(40):
        block[i % 16] = (block[i % 16] + 37 * i + 11) & 0xFF
        soft.encrypt_into(block, a)
        other.encrypt_into(block, b)
        assert a == b


def test_bad_key_length():
    for n in (0, 15, 17, 32):
        try:
            aes_ecb.new(bytes(n))
        except ValueError:
            continue
        raise AssertionError("accepted a %d-byte key" % n)


def test_rfc3610_packet_vector_1():
    ct, mic = ccm_host.encrypt(RFC_KEY, RFC_NONCE, RFC_PLAIN, RFC_AAD, mic_len=8)
    assert ct == RFC_CIPHER
    assert mic == RFC_MIC
    assert ccm.decrypt(RFC_KEY, RFC_NONCE, RFC_CIPHER, RFC_MIC, RFC_AAD) == RFC_PLAIN


def test_rfc3610_vector_1_with_soft_aes():
    def run():
        ct, mic = ccm_host.encrypt(RFC_KEY, RFC_NONCE, RFC_PLAIN, RFC_AAD, mic_len=8)
        assert ct == RFC_CIPHER and mic == RFC_MIC
        assert ccm.decrypt(RFC_KEY, RFC_NONCE, ct, mic, RFC_AAD) == RFC_PLAIN
    _soft_only(run)


def test_bthome_vectors_at_ccm_level():
    # temperature 25.06 C (02 ca 09) and humidity 50.55 % (03 bf 13)
    plain = h("02ca0903bf13")
    ct, mic = ccm_host.encrypt(BT_KEY, BT_NONCE, plain)
    assert ct == h("a47266c95f73")
    assert mic == h("78237214")
    assert ccm.decrypt(BT_KEY, BT_NONCE, ct, mic) == plain
    # motion detected (21 01)
    assert ccm.decrypt(BT_KEY, BT_NONCE, h("87b9"), h("72b0231f")) == h("2101")


def test_any_change_breaks_the_mic():
    ct, mic = RFC_CIPHER, RFC_MIC
    for i in range(len(ct)):
        bad = bytearray(ct)
        bad[i] ^= 0x01
        assert ccm.decrypt(RFC_KEY, RFC_NONCE, bad, mic, RFC_AAD) is None
    for i in range(len(mic)):
        bad = bytearray(mic)
        bad[i] ^= 0x80
        assert ccm.decrypt(RFC_KEY, RFC_NONCE, ct, bad, RFC_AAD) is None
    bad_aad = bytearray(RFC_AAD)
    bad_aad[0] ^= 1
    assert ccm.decrypt(RFC_KEY, RFC_NONCE, ct, mic, bad_aad) is None
    assert ccm.decrypt(RFC_KEY, RFC_NONCE, ct, mic) is None
    assert ccm.decrypt(RFC_KEY, RFC_NONCE, ct[:-1], mic, RFC_AAD) is None
    other_key = bytearray(RFC_KEY)
    other_key[15] ^= 1
    assert ccm.decrypt(other_key, RFC_NONCE, ct, mic, RFC_AAD) is None


def test_round_trips_over_lengths_and_parameters():
    key = bytes(range(16))
    for nonce_len in (7, 11, 13):
        nonce = bytes(range(1, nonce_len + 1))
        for mic_len in (4, 8, 16):
            for n in (0, 1, 15, 16, 17, 33):
                plain = bytes((i * 7 + n) & 0xFF for i in range(n))
                for aad in (b"", b"\x11", bytes(20)):
                    ct, mic = ccm_host.encrypt(key, nonce, plain, aad, mic_len)
                    assert len(ct) == n and len(mic) == mic_len
                    assert ccm.decrypt(key, nonce, ct, mic, aad) == plain


def test_bad_parameters_raise_value_error():
    bad = ((bytes(15), bytes(13), 4), (bytes(16), bytes(6), 4),
           (bytes(16), bytes(14), 4), (bytes(16), bytes(13), 5),
           (bytes(16), bytes(13), 2), (bytes(16), bytes(13), 18))
    for key, nonce, mic_len in bad:
        try:
            ccm_host.encrypt(key, nonce, b"x", mic_len=mic_len)
        except ValueError:
            continue
        raise AssertionError("accepted %d/%d/%d" % (len(key), len(nonce), mic_len))
