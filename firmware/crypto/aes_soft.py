# AES-128 in software, for single 16-byte blocks (see crypto/aes_ecb.py): the
# host's, which has no cryptolib. The board's firmware has it (ECB in hardware),
# so the board image leaves this file out (tools/mpy_build.py HOST_ONLY).


def _xtime(a):
    # Multiply by x in GF(2^8) modulo the AES polynomial x^8+x^4+x^3+x+1.
    a <<= 1
    return a ^ 0x11B if a & 0x100 else a


def _gmul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xtime(a)
        b >>= 1
    return r


def _make_sbox():
    # Derived instead of pasted as 256 magic numbers, so it can be checked
    # against FIPS-197 section 5.1.1: the inverse in GF(2^8), then the affine map.
    box = bytearray(256)
    for a in range(256):
        inv = 1
        sq = a
        for _ in range(7):  # a^2 * a^4 * ... * a^128 = a^254 = a^-1 (and 0 -> 0)
            sq = _gmul(sq, sq)
            inv = _gmul(inv, sq)
        s = inv
        for shift in range(1, 5):
            s ^= ((inv << shift) | (inv >> (8 - shift))) & 0xFF
        box[a] = s ^ 0x63
    return bytes(box)


_SBOX = None
_XTIME = bytes(_xtime(a) for a in range(256))
# State byte i is row i % 4, column i // 4; ShiftRows moves row r left by r.
_SHIFTED = bytes(r + 4 * ((c + r) & 3) for c in range(4) for r in range(4))


class SoftAES:
    def __init__(self, key):
        global _SBOX
        if _SBOX is None:  # built on first use: the board never needs it
            _SBOX = _make_sbox()
        if len(key) != 16:
            raise ValueError("AES-128 key must be 16 bytes")
        self._rk = self._expand(key)
        self._s = bytearray(16)
        self._t = bytearray(16)

    @staticmethod
    def _expand(key):
        rk = bytearray(176)
        rk[0:16] = key
        rcon = 1
        for i in range(16, 176, 4):
            t0, t1, t2, t3 = rk[i - 4], rk[i - 3], rk[i - 2], rk[i - 1]
            if i % 16 == 0:
                t0, t1, t2, t3 = _SBOX[t1] ^ rcon, _SBOX[t2], _SBOX[t3], _SBOX[t0]
                rcon = _xtime(rcon)
            rk[i] = rk[i - 16] ^ t0
            rk[i + 1] = rk[i - 15] ^ t1
            rk[i + 2] = rk[i - 14] ^ t2
            rk[i + 3] = rk[i - 13] ^ t3
        return rk

    def encrypt_into(self, src, dst):
        s, t, rk, box, xt, sh = self._s, self._t, self._rk, _SBOX, _XTIME, _SHIFTED
        for i in range(16):
            s[i] = src[i] ^ rk[i]
        for rnd in range(1, 11):
            for i in range(16):
                t[i] = box[s[sh[i]]]
            if rnd == 10:  # the last round has no MixColumns
                s, t = t, s
            else:
                for c in range(0, 16, 4):
                    a0, a1, a2, a3 = t[c], t[c + 1], t[c + 2], t[c + 3]
                    all4 = a0 ^ a1 ^ a2 ^ a3
                    s[c] = a0 ^ all4 ^ xt[a0 ^ a1]
                    s[c + 1] = a1 ^ all4 ^ xt[a1 ^ a2]
                    s[c + 2] = a2 ^ all4 ^ xt[a2 ^ a3]
                    s[c + 3] = a3 ^ all4 ^ xt[a3 ^ a0]
            k = 16 * rnd
            for i in range(16):
                s[i] ^= rk[k + i]
        for i in range(16):
            dst[i] = s[i]
