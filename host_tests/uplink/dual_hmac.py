# HMAC-SHA256 against RFC 4231, under CPython and micropython.
import binascii

from crypto.hmac_sha256 import hmac_sha256, hexdigest, equal


def _h(s):
    return binascii.unhexlify(s)


def test_rfc4231_case_1():
    key = b"\x0b" * 20
    want = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    assert hexdigest(key, b"Hi There") == want
    assert hmac_sha256(key, b"Hi There") == _h(want)


def test_rfc4231_case_2():
    want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert hexdigest(b"Jefe", b"what do ya want for nothing?") == want


def test_rfc4231_case_6_long_key():
    key = b"\xaa" * 131
    msg = b"Test Using Larger Than Block-Size Key - Hash Key First"
    want = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    assert hexdigest(key, msg) == want


def test_equal():
    assert equal(b"abc", b"abc")
    assert equal("abc", b"abc")
    assert not equal(b"abc", b"abd")
    assert not equal(b"abc", b"ab")
    assert not equal(b"", b"a")
    assert equal(b"", b"")
