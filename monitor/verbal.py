"""Verbal passwords: kept only as salted PBKDF2-SHA256 hashes.

A verbal password is spoken on the phone and typed by an operator, so case and
spacing are not part of it: both sides are normalised before hashing."""
import hashlib
import hmac
import os

ITERATIONS = 200_000


def normalise(spoken):
    return " ".join(str(spoken).split()).casefold()


def hash_password(spoken, iterations=ITERATIONS):
    if not normalise(spoken):
        raise ValueError("the verbal password must not be empty")
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", normalise(spoken).encode(), salt, iterations)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt.hex(), digest.hex())


def check(stored, spoken):
    """True when spoken matches the stored hash; False for anything else, including no hash."""
    if not stored or spoken is None:
        return False
    try:
        scheme, iterations, salt, want = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", normalise(spoken).encode(), bytes.fromhex(salt),
                                  int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), want)
