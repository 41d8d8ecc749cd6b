# Keypad codes, kept only as salted, iterated SHA-256 hashes.
#
# Stored form: "s256$<iterations>$<salt hex>$<digest hex>". A check always
# hashes the entry against every stored code, so a match on the first user, the
# last user or the duress code costs the same: nobody at the door can tell a
# duress disarm from a normal one by how long the keypad takes.
import hashlib
import binascii

from panel.compat import const

# A user's entry in Codes.entries, a tuple read by these positions (on the
# board a tuple costs a fraction of an object): the user's number, name and
# role ("user", "master" or "duress"), then the hash's iterations, salt and
# digest, which only this module reads. Modules that read an entry keep a
# copy of the first three (const() folds within a module only);
# host_tests/test_record_layouts.py holds the copies to these.
_NUMBER = const(0)
_NAME = const(1)
_ROLE = const(2)
_ROUNDS = const(3)
_SALT = const(4)
_DIGEST = const(5)
ITERATIONS = 64
SALT_BYTES = 8


def _digest(code, salt, iterations):
    h = hashlib.sha256(salt + code.encode()).digest()
    for _ in range(iterations - 1):
        h = hashlib.sha256(h + salt).digest()
    return h


def stored_form(iterations, salt, digest):
    return "s256$%d$%s$%s" % (
        iterations, binascii.hexlify(salt).decode(), binascii.hexlify(digest).decode())


def parse_hash(stored):
    # Returns (iterations, salt, digest) or raises ValueError.
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != "s256":
        raise ValueError("not an s256$iterations$salt$digest hash")
    n = int(parts[1])
    if n < 1 or n > 100000:
        raise ValueError("iterations out of range")
    salt = binascii.unhexlify(parts[2])
    digest = binascii.unhexlify(parts[3])
    if len(digest) != 32 or not salt:
        raise ValueError("bad salt or digest length")
    return (n, salt, digest)


def valid_code(code):
    return isinstance(code, str) and 4 <= len(code) <= 8 and code.isdigit()


def distance(a, b):
    # Steps between two codes: a changed, missing or extra digit, or two
    # neighbouring digits swapped (1234 / 1243), each one step. A duress code
    # one step from a user code would send police on a fumbled disarm.
    prev2 = None
    prev = list(range(len(b) + 1))
    for i in range(len(a)):
        cur = [i + 1]
        for j in range(len(b)):
            d = min(prev[j + 1] + 1, cur[j] + 1, prev[j] + (a[i] != b[j]))
            if i and j and a[i] == b[j - 1] and a[i - 1] == b[j]:
                d = min(d, prev2[j - 1] + 1)
            cur.append(d)
        prev2 = prev
        prev = cur
    return prev[-1]


def neighbours(code):
    # Every valid code one step from `code`, each once: what a typo can turn
    # it into. At most 170 (7 digits), so checking them is bounded.
    found = {}
    n = len(code)
    for i in range(n + 1):
        for d in "0123456789":
            found[code[:i] + d + code[i:]] = 1        # an extra digit
    for i in range(n):
        found[code[:i] + code[i + 1:]] = 1            # a missing digit
        for d in "0123456789":
            found[code[:i] + d + code[i + 1:]] = 1    # a changed digit
        if i + 1 < n:
            found[code[:i] + code[i + 1] + code[i] + code[i + 2:]] = 1   # a swap
    found.pop(code, None)
    return [c for c in found if valid_code(c)]


def clash(entries, number, role, code, known=None, budget=None):
    # The one rule for a new code, at config time and at the keypad alike:
    # None if user `number` (with `role`) may have `code`, else (why, other
    # user's number), why being "same", "near", or "cost" when checking would
    # take more than `budget` code hashes.
    # known maps user numbers to plain codes the caller still holds (config
    # time). Every other code is known only by its salted hash, so each
    # neighbour of the new code is hashed against it: up to 170 neighbours x
    # the entries across the duress line. Setting a user's code costs ~170
    # hashes (one duress code); setting the duress code ~170 per user. The
    # keypad passes a budget so the hub loop never stalls near the watchdog.
    rivals = []
    for e in entries:
        other = e[_NUMBER]
        if other == number:
            continue
        plain = known.get(other) if known else None
        across = (e[_ROLE] == "duress") != (role == "duress")
        if plain is not None:
            if plain == code:
                return ("same", other)
            if across and distance(plain, code) < 2:
                return ("near", other)
        elif digest_matches(code, e):
            return ("same", other)
        elif across:
            rivals.append(e)
    if not rivals:
        return None
    near = neighbours(code)
    if budget is not None and len(near) * len(rivals) > budget:
        return ("cost", 0)
    for e in rivals:
        for c in near:
            if digest_matches(c, e):
                return ("near", e[_NUMBER])
    return None


class Codes:
    # One entry per user: (number, name, role, iterations, salt, digest).

    def __init__(self, random_bytes):
        self._random = random_bytes
        self.entries = []
        self.hashes_computed = 0  # read by tests: proof of constant work

    def add(self, number, name, role, code=None, stored=None):
        if code is not None:
            salt = self._random(SALT_BYTES)
            n = ITERATIONS
            digest = _digest(code, salt, n)
        else:
            n, salt, digest = parse_hash(stored)
        self.remove(number)
        self.entries.append((number, name, role, n, salt, digest))

    def remove(self, number):
        for i in range(len(self.entries)):
            if self.entries[i][_NUMBER] == number:
                del self.entries[i]
                return True
        return False

    def find(self, code):
        # The entry whose code this is, or None. Constant work by design.
        found = None
        for e in self.entries:
            self.hashes_computed += 1
            if digest_matches(code, e) and found is None:
                found = e
        return found

    def export(self):
        # The whole table, hashes only, for the flash store.
        return [[e[_NUMBER], e[_NAME], e[_ROLE], stored_form(e[_ROUNDS], e[_SALT], e[_DIGEST])]
                for e in self.entries]

    def load(self, rows):
        self.entries = []
        for number, name, role, stored in rows:
            self.add(number, name, role, stored=stored)

    def stored(self, number):
        for e in self.entries:
            if e[_NUMBER] == number:
                return stored_form(e[_ROUNDS], e[_SALT], e[_DIGEST])
        return None


def digest_matches(code, entry):
    return _same(_digest(code, entry[_SALT], entry[_ROUNDS]), entry[_DIGEST])


def _same(a, b):
    # Compare without an early exit.
    r = 0
    for i in range(len(a)):
        r |= a[i] ^ b[i]
    return r == 0 and len(a) == len(b)
