# HMAC-SHA256 (RFC 2104) over hashlib.sha256, because MicroPython has no hmac
# module. Same results as CPython's hmac.new(key, msg, "sha256").
import hashlib
import binascii

_BLOCK = 64
_IPAD = bytes(0x36 for _ in range(_BLOCK))
_OPAD = bytes(0x5C for _ in range(_BLOCK))


def _xor(a, b):
    out = bytearray(_BLOCK)
    for i in range(_BLOCK):
        out[i] = a[i] ^ b[i]
    return out


def hmac_sha256(key, msg):
    """The 32-byte HMAC-SHA256 of msg (bytes) under key (bytes)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    k = bytearray(_BLOCK)
    k[:len(key)] = key
    inner = hashlib.sha256(_xor(k, _IPAD))
    inner.update(msg)
    outer = hashlib.sha256(_xor(k, _OPAD))
    outer.update(inner.digest())
    return outer.digest()


def hexdigest(key, msg):
    """hmac_sha256 as 64 lowercase hex characters (str)."""
    return binascii.hexlify(hmac_sha256(key, msg)).decode()


def equal(a, b):
    """Constant-time comparison of two bytes/str values (timing depends on length only)."""
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    diff = len(a) ^ len(b)
    n = min(len(a), len(b))
    for i in range(n):
        diff |= a[i] ^ b[i]
    return diff == 0
