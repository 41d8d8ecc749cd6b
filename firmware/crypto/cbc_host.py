# The host's stand-in for the board's cryptolib.aes, CBC mode only, for
# uplink/dc09_cbc.py under CPython (which has no cryptolib). Built on the
# `cryptography` package the host tests already depend on. Off the board
# image (tools/mpy_build.py HOST_ONLY): the board's firmware has cryptolib.
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_CBC = 2


class aes:
    # cryptolib.aes(key, mode, iv): one object encrypts or decrypts, not both.
    def __init__(self, key, mode, iv):
        if mode != _CBC:
            raise ValueError("only CBC (mode 2) on the host")
        self._c = Cipher(algorithms.AES(bytes(key)), modes.CBC(bytes(iv)))

    def encrypt(self, data):
        e = self._c.encryptor()
        return e.update(bytes(data)) + e.finalize()

    def decrypt(self, data):
        d = self._c.decryptor()
        return d.update(bytes(data)) + d.finalize()
