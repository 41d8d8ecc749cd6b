"""Our AES-CCM (firmware/crypto/ccm.py, on single-block AES) against the
`cryptography` package's AESCCM, in both directions: on random inputs under
CPython, and on a fixed set of vectors cryptography makes, under the host
micropython with the board's code path."""
import json
import random
import subprocess

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from hypothesis import given, settings, strategies as st

import pytest

from crypto import ccm
from crypto import ccm_host
from tools import paths

pytestmark = pytest.mark.fast

PEER = settings(max_examples=200, deadline=None, derandomize=True, database=None)
BTHOME_MIC = 4
keys = st.binary(min_size=16, max_size=16)
nonces = st.integers(7, 13).flatmap(lambda n: st.binary(min_size=n, max_size=n))
mics = st.sampled_from([BTHOME_MIC, 4, 6, 8, 10, 12, 14, 16])


@PEER
@given(keys, nonces, st.binary(max_size=70), st.binary(max_size=40), mics)
def test_we_seal_as_cryptography_does(key, nonce, plain, aad, mic_len):
    ct, mic = ccm_host.encrypt(key, nonce, plain, aad, mic_len)
    assert ct + mic == AESCCM(key, tag_length=mic_len).encrypt(nonce, plain, aad or None)


@PEER
@given(keys, nonces, st.binary(max_size=70), st.binary(max_size=40), mics)
def test_we_open_what_cryptography_sealed(key, nonce, plain, aad, mic_len):
    sealed = AESCCM(key, tag_length=mic_len).encrypt(nonce, plain, aad or None)
    assert ccm.decrypt(key, nonce, sealed[:-mic_len], sealed[-mic_len:], aad) == plain


@PEER
@given(keys, nonces, st.binary(min_size=1, max_size=40), st.binary(max_size=8), st.data())
def test_a_damaged_seal_is_refused_by_both(key, nonce, plain, aad, data):
    sealed = bytearray(AESCCM(key, tag_length=BTHOME_MIC).encrypt(nonce, plain, aad or None))
    i = data.draw(st.integers(0, len(sealed) - 1))
    sealed[i] ^= 1 << data.draw(st.integers(0, 7))
    assert ccm.decrypt(key, nonce, bytes(sealed[:-BTHOME_MIC]), bytes(sealed[-BTHOME_MIC:]),
                       aad) is None
    try:
        AESCCM(key, tag_length=BTHOME_MIC).decrypt(nonce, bytes(sealed), aad or None)
    except InvalidTag:
        return
    raise AssertionError("cryptography accepted a damaged seal")


def _vectors():
    rng = random.Random(14)
    out = []
    for i in range(40):
        key = rng.randbytes(16)
        nonce = rng.randbytes(13 if i % 2 else rng.randint(7, 13))   # BTHome: 13
        mic_len = BTHOME_MIC if i % 2 else rng.choice([4, 6, 8, 10, 12, 14, 16])
        plain = rng.randbytes(rng.randint(0, 48))
        aad = rng.randbytes(rng.randint(0, 20)) if i % 3 else b""
        sealed = AESCCM(key, tag_length=mic_len).encrypt(nonce, plain, aad or None)
        out.append([x.hex() for x in (key, nonce, plain, aad, sealed)] + [mic_len])
    return out


_MP = """
import sys, json, binascii
from crypto import ccm
from crypto import ccm_host
h = binascii.unhexlify
for key, nonce, plain, aad, sealed, m in json.loads(sys.stdin.read()):
    ct, mic = ccm_host.encrypt(h(key), h(nonce), h(plain), h(aad), m)
    back = ccm.decrypt(h(key), h(nonce), h(sealed)[:-m], h(sealed)[-m:], h(aad))
    bad = bytearray(h(sealed))
    bad[0] ^= 1
    forged = ccm.decrypt(h(key), h(nonce), bytes(bad[:-m]), bytes(bad[-m:]), h(aad))
    print(json.dumps([binascii.hexlify(ct + mic).decode(),
                      None if back is None else binascii.hexlify(back).decode(),
                      forged is None]))
"""


def test_cryptography_vectors_under_micropython():
    vectors = _vectors()
    done = subprocess.run([paths.venv_tool("micropython"), "-c", _MP],
                          input=json.dumps(vectors).encode(), capture_output=True,
                          env=paths.micropython_env(), timeout=120)
    lines = done.stdout.decode().splitlines()
    assert len(lines) == len(vectors), done.stdout.decode() + done.stderr.decode()
    for (key, nonce, plain, aad, sealed, m), line in zip(vectors, lines):
        ours_sealed, opened, forged_refused = json.loads(line)
        assert ours_sealed == sealed
        assert opened == plain
        assert forged_refused is True
