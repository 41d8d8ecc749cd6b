# CCM encryption (see crypto/ccm.py): the simulation's and the tests' sensors
# encrypt; the hub only decrypts, so the board image leaves this file out
# (tools/mpy_build.py HOST_ONLY).
from crypto.ccm import _Ccm


def encrypt(key, nonce, plaintext, aad=b"", mic_len=4):
    """(ciphertext, mic) for `plaintext` under `key` and a never-reused `nonce`."""
    c = _Ccm(key, nonce, mic_len)
    mic = c.tag(aad, plaintext)
    return bytes(c.crypt(plaintext)), mic
