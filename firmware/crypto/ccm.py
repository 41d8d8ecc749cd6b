# AES-CCM (RFC 3610) built on single-block AES, because the board's cryptolib
# offers ECB only. BTHome v2 uses it with a 13-byte nonce and a 4-byte MIC.
from crypto import aes_ecb


def _check(key, nonce, mic_len):
    if len(key) != 16:
        raise ValueError("key must be 16 bytes")
    if not 7 <= len(nonce) <= 13:
        raise ValueError("nonce must be 7..13 bytes")
    if mic_len not in (4, 6, 8, 10, 12, 14, 16):
        raise ValueError("mic_len must be even, 4..16")


class _Ccm:
    def __init__(self, key, nonce, mic_len):
        _check(key, nonce, mic_len)
        self.aes = aes_ecb.new(key)
        self.nonce = nonce
        self.q = 15 - len(nonce)  # bytes left for the message length / counter
        self.m = mic_len
        # Two buffers used alternately: the cipher never writes where it reads.
        self.x = bytearray(16)
        self.y = bytearray(16)
        self.ctr = bytearray(16)
        self.ctr[0] = self.q - 1
        self.ctr[1:1 + len(nonce)] = nonce

    def _fill_counter(self, i):
        c = self.ctr
        for j in range(self.q):
            c[15 - j] = (i >> (8 * j)) & 0xFF

    def keystream(self, i):
        self._fill_counter(i)
        self.aes.encrypt_into(self.ctr, self.y)
        return self.y

    def crypt(self, data):
        # CTR mode from block 1 on; block 0 is kept for the MIC.
        n = len(data)
        self.check_len(n)
        out = bytearray(n)
        for off in range(0, n, 16):
            s = self.keystream(off // 16 + 1)
            for j in range(min(16, n - off)):
                out[off + j] = data[off + j] ^ s[j]
        return out

    def _absorb(self, data):
        # CBC-MAC over `data` padded with zeros to whole blocks; xoring a short
        # tail into the chain is the same as xoring it zero-padded.
        x = self.x
        n = len(data)
        for off in range(0, n, 16):
            for j in range(min(16, n - off)):
                x[j] ^= data[off + j]
            self.aes.encrypt_into(x, self.y)
            x[:] = self.y

    def check_len(self, n):
        # The length field (and so the block counter) has only q bytes.
        if self.q < 8 and n >> (8 * self.q):
            raise ValueError("message too long for this nonce size")

    def tag(self, aad, msg):
        n = len(msg)
        self.check_len(n)
        b0 = bytearray(16)
        b0[0] = (0x40 if aad else 0) | ((self.m - 2) // 2) << 3 | (self.q - 1)
        b0[1:1 + len(self.nonce)] = self.nonce
        for j in range(self.q):
            b0[15 - j] = (n >> (8 * j)) & 0xFF
        self.aes.encrypt_into(b0, self.x)
        if aad:
            a = len(aad)
            if a < 0xFF00:
                head = bytes(((a >> 8) & 0xFF, a & 0xFF))
            else:
                head = b"\xff\xfe" + bytes(((a >> 24) & 0xFF, (a >> 16) & 0xFF,
                                            (a >> 8) & 0xFF, a & 0xFF))
            self._absorb(head + bytes(aad))
        self._absorb(msg)
        s0 = self.keystream(0)
        x = self.x
        return bytes(x[j] ^ s0[j] for j in range(self.m))


def decrypt(key, nonce, ciphertext, mic, aad=b""):
    """The plaintext, or None when the MIC does not match (wrong key, forged or
    damaged packet). The MIC length is taken from `mic`."""
    c = _Ccm(key, nonce, len(mic))
    plain = c.crypt(ciphertext)
    expect = c.tag(aad, plain)
    # Look at every byte whatever the first difference: no timing hint about
    # how much of a forged MIC was right.
    diff = 0
    for j in range(len(mic)):
        diff |= expect[j] ^ mic[j]
    if diff:
        return None
    return bytes(plain)
