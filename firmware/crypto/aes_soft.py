# AES in software (FIPS-197), 16-, 24- and 32-byte keys, one 16-byte block at
# a time, and CBC on top. Two users:
# - the host, which has no cryptolib: AES-128 blocks for CCM (crypto/aes_ecb.py);
# - a board whose DC-09 key has 24 characters (uplink/dc09_cbc.py): cryptolib
#   takes 16- and 32-byte keys only (extmod/modcryptolib.c refuses any other
#   length), and a monitoring company may hand out AES-192 keys. tools/deploy.py
#   puts this file on the board for such a key alone (tools/mpy_build.py
#   AES192_ONLY), so every other image stays as small as it was.
from panel.compat import const

_CBC = const(2)     # cryptolib's mode number for CBC, the one mode DC-09 uses


def _xtime(a):
    # Multiply by x in GF(2^8) modulo the AES polynomial x^8+x^4+x^3+x+1.
    a <<= 1
    return a ^ 0x11B if a & 0x100 else a


def _make_boxes():
    # Derived instead of pasted as 512 magic numbers, so it can be checked
    # against FIPS-197 section 5.1.1: the inverse in GF(2^8), then the affine
    # map. Inverses from powers of the generator 3 (a^-1 = 3^(255 - log a)):
    # about 1,300 cheap steps, paid once when this module is imported (on the
    # board: at boot, when the config's 24-character key is checked).
    exp = bytearray(256)
    log = bytearray(256)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x ^= _xtime(x)
    box = bytearray(256)
    inv_box = bytearray(256)
    for a in range(256):
        inv = exp[(255 - log[a]) % 255] if a else 0
        s = inv ^ 0x63
        for shift in range(1, 5):
            s ^= ((inv << shift) | (inv >> (8 - shift))) & 0xFF
        box[a] = s
        inv_box[s] = a
    return bytes(box), bytes(inv_box)


_SBOX, _INV_SBOX = _make_boxes()
_XTIME = bytes(_xtime(a) for a in range(256))
# State byte i is row i % 4, column i // 4; ShiftRows moves row r left by r.
_SHIFTED = bytes(r + 4 * ((c + r) & 3) for c in range(4) for r in range(4))


def _mix(s, t):
    # MixColumns of t into s, with xtime alone: 2a ^ 3b ^ c ^ d per byte.
    xt = _XTIME
    for c in range(0, 16, 4):
        a0, a1, a2, a3 = t[c], t[c + 1], t[c + 2], t[c + 3]
        all4 = a0 ^ a1 ^ a2 ^ a3
        s[c] = a0 ^ all4 ^ xt[a0 ^ a1]
        s[c + 1] = a1 ^ all4 ^ xt[a1 ^ a2]
        s[c + 2] = a2 ^ all4 ^ xt[a2 ^ a3]
        s[c + 3] = a3 ^ all4 ^ xt[a3 ^ a0]


class SoftAES:
    def __init__(self, key):
        n = len(key)
        if n not in (16, 24, 32):
            raise ValueError("AES key must be 16, 24 or 32 bytes")
        self._nr = n // 4 + 6       # 10, 12 or 14 rounds
        self._rk = self._expand(key, n, 16 * (self._nr + 1))
        self._s = bytearray(16)
        self._t = bytearray(16)

    @staticmethod
    def _expand(key, n, size):
        # FIPS-197 5.2 on bytes: each 4-byte word is the word n bytes back XOR
        # the previous one, which is rotated, substituted and XORed with rcon at
        # every n bytes (and, for 32-byte keys, substituted halfway as well).
        box = _SBOX
        rk = bytearray(size)
        rk[0:n] = key
        rcon = 1
        for i in range(n, size, 4):
            t0, t1, t2, t3 = rk[i - 4], rk[i - 3], rk[i - 2], rk[i - 1]
            if i % n == 0:
                t0, t1, t2, t3 = box[t1] ^ rcon, box[t2], box[t3], box[t0]
                rcon = _xtime(rcon)
            elif n == 32 and i % n == 16:
                t0, t1, t2, t3 = box[t0], box[t1], box[t2], box[t3]
            rk[i] = rk[i - n] ^ t0
            rk[i + 1] = rk[i - n + 1] ^ t1
            rk[i + 2] = rk[i - n + 2] ^ t2
            rk[i + 3] = rk[i - n + 3] ^ t3
        return rk

    def encrypt_into(self, src, dst):
        s, t, rk, box, sh, nr = self._s, self._t, self._rk, _SBOX, _SHIFTED, self._nr
        for i in range(16):
            s[i] = src[i] ^ rk[i]
        for rnd in range(1, nr + 1):
            for i in range(16):
                t[i] = box[s[sh[i]]]
            if rnd == nr:  # the last round has no MixColumns
                s, t = t, s
            else:
                _mix(s, t)
            k = 16 * rnd
            for i in range(16):
                s[i] ^= rk[k + i]
        for i in range(16):
            dst[i] = s[i]

    def decrypt_into(self, src, dst):
        # FIPS-197 5.3, the rounds backwards. InvMixColumns is MixColumns after
        # multiplying each column by {05,00,04,00}, so it reuses _mix.
        s, t, rk, inv, sh, xt = self._s, self._t, self._rk, _INV_SBOX, _SHIFTED, _XTIME
        k = 16 * self._nr
        for i in range(16):
            s[i] = src[i] ^ rk[k + i]
        for rnd in range(self._nr - 1, -1, -1):
            for i in range(16):
                t[sh[i]] = inv[s[i]]
            k = 16 * rnd
            for i in range(16):
                t[i] ^= rk[k + i]
            if rnd == 0:  # the first round had no MixColumns
                s, t = t, s
            else:
                for c in range(0, 16, 4):
                    u = xt[xt[t[c] ^ t[c + 2]]]
                    v = xt[xt[t[c + 1] ^ t[c + 3]]]
                    t[c] ^= u
                    t[c + 1] ^= v
                    t[c + 2] ^= u
                    t[c + 3] ^= v
                _mix(s, t)
        for i in range(16):
            dst[i] = s[i]


class CBC:
    """cryptolib.aes(key, 2, iv) for any AES key length: CBC over whole
    16-byte blocks; one object encrypts or decrypts (the IV chains on)."""

    def __init__(self, key, mode, iv):
        if mode != _CBC or len(iv) != 16:
            raise ValueError("CBC (mode 2) with a 16-byte IV only")
        self._aes = SoftAES(key)
        self._iv = bytearray(iv)

    def encrypt(self, data):
        n = len(data)
        if n % 16:
            raise ValueError("a multiple of 16 bytes")
        out = bytearray(n)
        iv, blk, mv = self._iv, bytearray(16), memoryview(out)
        for b in range(0, n, 16):
            for i in range(16):
                blk[i] = data[b + i] ^ iv[i]
            self._aes.encrypt_into(blk, mv[b:b + 16])
            iv[:] = out[b:b + 16]
        return bytes(out)

    def decrypt(self, data):
        n = len(data)
        if n % 16:
            raise ValueError("a multiple of 16 bytes")
        out = bytearray(n)
        iv, blk = self._iv, bytearray(16)
        for b in range(0, n, 16):
            self._aes.decrypt_into(data[b:b + 16], blk)
            for i in range(16):
                out[b + i] = blk[i] ^ iv[i]
            iv[:] = data[b:b + 16]
        return bytes(out)
