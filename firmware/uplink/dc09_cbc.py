# AES-CBC as SIA DC-09 uses it: a zero IV, a key of 16 or 32 ASCII
# characters (AES-128/256) taken as the bytes of those characters, which is
# how receivers (pysiaalarm, hence Home Assistant) read the key they are given.
# DC-09 also allows 24 (AES-192), but MicroPython's cryptolib takes 16- and
# 32-byte keys only (every port, ESP32's mbedtls one too), and a software
# AES-192 would not fit the board's flash budget: a 24-character key is
# refused by name in the config, never accepted and then failing. Every message is encrypted on its own, so the zero IV is the
# standard's; the random pad in front of the content (uplink/dc09.py) keeps two
# equal contents from giving equal first blocks.
#
# The board's firmware has cryptolib (mbedtls; mode 2 is CBC). CPython has no
# cryptolib: the host's stand-in is crypto/cbc_host.py, off the board image.
try:
    from cryptolib import aes
except ImportError:
    from crypto.cbc_host import aes

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_CBC = const(2)
_IV = bytes(16)


def check_key(key):
    """The key's bytes, or ValueError: 16 or 32 hex characters."""
    if not isinstance(key, str) or len(key) not in (16, 32):
        raise ValueError("16 or 32 hex characters (AES-128/256; the board has no AES-192)")
    for ch in key:
        if ch not in "0123456789abcdefABCDEF":
            raise ValueError("hex characters only")
    return key.encode()


def encrypt(key, data):
    """data (a multiple of 16 bytes) under key (bytes), CBC with a zero IV."""
    return aes(key, _CBC, _IV).encrypt(data)


def decrypt(key, data):
    return aes(key, _CBC, _IV).decrypt(data)
