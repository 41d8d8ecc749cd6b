# AES-128 on single 16-byte blocks: the one primitive CCM needs.
#
# The board's firmware has cryptolib (ECB in hardware, via mbedtls) but CPython
# has no such module and the project takes no crypto dependency, so the host
# falls back to SoftAES (crypto/aes_soft.py, off the board image). SoftAES also
# runs on MicroPython, so the dual tests can check both against FIPS-197 on
# either interpreter.
try:
    from cryptolib import aes as _native_aes
except ImportError:
    try:
        from ucryptolib import aes as _native_aes
    except ImportError:
        _native_aes = None

_MODE_ECB = 1


def new(key):
    """A block cipher for `key` (16 bytes): .encrypt_into(src16, dst16)."""
    if len(key) != 16:
        raise ValueError("AES-128 key must be 16 bytes")
    if _native_aes is not None:
        return NativeAES(key)
    # Only the host gets here (the board's firmware has cryptolib): SoftAES is
    # in crypto/aes_soft.py, which the board image leaves out.
    from crypto.aes_soft import SoftAES
    return SoftAES(key)


class NativeAES:
    def __init__(self, key):
        self._c = _native_aes(bytes(key), _MODE_ECB)

    def encrypt_into(self, src, dst):
        # Callers never pass the same buffer twice: whether the port's AES may
        # work in place is not documented, so it is not relied on.
        self._c.encrypt(src, dst)
