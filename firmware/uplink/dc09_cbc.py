# AES-CBC as SIA DC-09 uses it: a zero IV, a key of 16, 24 or 32 ASCII
# characters (AES-128/192/256) taken as the bytes of those characters, which is
# how receivers (pysiaalarm, hence Home Assistant) read the key they are given.
# Every message is encrypted on its own, so the zero IV is the standard's; the
# random pad in front of the content (uplink/dc09.py) keeps two equal contents
# from giving equal first blocks.
#
# The board's firmware has cryptolib (mbedtls; mode 2 is CBC), but it takes 16-
# and 32-byte keys only: a 24-byte key goes to the software AES
# (crypto/aes_soft.py), which deploy puts on the board for such a key alone.
# CPython has no cryptolib: the host's stand-in is crypto/cbc_host.py, off the
# board image.
try:
    from cryptolib import aes
except ImportError:
    from crypto.cbc_host import aes

from panel.compat import const

_CBC = const(2)
_IV = bytes(16)


def check_key(key):
    """The key's bytes, or ValueError: 16, 24 or 32 hex characters. A
    24-character key also turns this module to the software AES, at boot
    (hub/dc09.py checks the config's key), not at the first alarm."""
    if not isinstance(key, str) or len(key) not in (16, 24, 32) \
            or key.strip("0123456789abcdefABCDEF"):
        raise ValueError("16, 24 or 32 hex characters")
    if len(key) == 24:
        # cryptolib raises ValueError("key") for any length but 16 and 32
        # (extmod/modcryptolib.c). The software AES does every length, and a
        # hub has one key: a switch here costs the other images nothing, where
        # a choice at each message would cost them bytes of flash and heap.
        global aes
        from crypto.aes_soft import CBC as aes
    return key.encode()


def encrypt(key, data):
    """data (a multiple of 16 bytes) under key (bytes), CBC with a zero IV."""
    return aes(key, _CBC, _IV).encrypt(data)


def decrypt(key, data):
    return aes(key, _CBC, _IV).decrypt(data)
