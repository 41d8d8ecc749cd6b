"""Who may use the web side: operators (name, Argon2 password hash, role), their
sessions, and the owners' per-account app links.

The tables live in the case store beside the cases (CREATE TABLE IF NOT EXISTS
on the caller's connection). Session and link tokens are random and only their
SHA-256 is stored, so a copy of the database opens no session."""
import functools
import hashlib
import hmac
import re
import secrets
import time

import argon2

ROLES = ("operator", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS operators (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('operator', 'admin')),
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('operator', 'owner')),
  subject TEXT NOT NULL,            -- the operator's name, or the owner's hub
  csrf TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
"""
# The owners' app links are the case store's (monitor/schema.py, version 7).
LINK_TTL_S = 7 * 24 * 3600

# argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes).
_hasher = argon2.PasswordHasher()


class OperatorError(ValueError):
    pass


def ensure_schema(store):
    store.ensure(SCHEMA)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _ms(clock):
    return int(clock() * 1000)


# ---- operators ----

def add(store, name, password, role):
    if not NAME.match(name or ""):
        raise OperatorError("operator name %r: 1-64 letters, digits, . _ @ - "
                            "(starting with a letter or digit)" % name)
    if role not in ROLES:
        raise OperatorError("role must be one of %s, got %r" % (", ".join(ROLES), role))
    pw_hash = _new_hash(password)
    ensure_schema(store)
    with store.tx() as db:
        if store.one("SELECT 1 FROM operators WHERE name = ?", name):
            raise OperatorError("operator %s exists" % name)
        db.execute("INSERT INTO operators (name, password_hash, role, created_ms) "
                   "VALUES (?,?,?,?)", (name, pw_hash, role, int(time.time() * 1000)))


def _new_hash(password):
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise OperatorError("the password must be at least %d characters" % MIN_PASSWORD)
    return _hasher.hash(password)


def passwd(store, name, password):
    """A new password for `name`; every session the operator had ends (one
    opened with the old password, perhaps by whoever learnt it, must not outlive it)."""
    pw_hash = _new_hash(password)
    ensure_schema(store)
    with store.tx():
        if not store.x("UPDATE operators SET password_hash = ? WHERE name = ?", pw_hash, name):
            raise OperatorError("no operator %s" % name)
        _end_sessions(store, name)


def remove(store, name):
    """`name` can no longer log in, and every session they had ends now."""
    ensure_schema(store)
    with store.tx():
        if not store.x("DELETE FROM operators WHERE name = ?", name):
            raise OperatorError("no operator %s" % name)
        _end_sessions(store, name)


def _end_sessions(store, name):
    store.x("DELETE FROM web_sessions WHERE kind = 'operator' AND subject = ?", name)


def count(store):
    ensure_schema(store)
    return store.one("SELECT COUNT(*) AS n FROM operators")["n"]


def listing(store):
    return [{"name": r["name"], "role": r["role"]}
            for r in store.q("SELECT name, role FROM operators ORDER BY name")]


def password_hash(store, name):
    """The stored hash to verify against; for an unknown name a dummy one, so a
    login for a name that does not exist costs the same as a wrong password."""
    row = store.one("SELECT password_hash, role FROM operators WHERE name = ?", name)
    return (row["password_hash"], row["role"]) if row else (_dummy_hash(), None)


def verify(pw_hash, password):
    """Argon2 check (slow on purpose: run it off the event loop)."""
    try:
        return _hasher.verify(pw_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


@functools.cache
def _dummy_hash():
    # Made on first use, not at import: an Argon2 hash costs 64 MiB and about
    # 0.2 s, which every `python -m monitor` command would otherwise pay. (The
    # first unknown name after a start costs one hash more: it says nothing
    # about which names exist.)
    return _hasher.hash(secrets.token_urlsafe(16))


# ---- sessions (operators and owners) ----

def open_session(store, kind, subject, ttl_s, clock):
    token = secrets.token_urlsafe(32)
    now = _ms(clock)
    with store.tx() as db:
        db.execute("DELETE FROM web_sessions WHERE expires_ms < ?", (now,))
        db.execute("INSERT INTO web_sessions (token_hash, kind, subject, csrf, created_ms, "
                   "expires_ms) VALUES (?,?,?,?,?,?)",
                   (_digest(token), kind, subject, secrets.token_urlsafe(32), now,
                    now + int(ttl_s * 1000)))
    return token


def session(store, token, clock):
    """{"kind", "subject", "csrf", "role"} for a live session token, else None."""
    if not token:
        return None
    row = store.one("SELECT * FROM web_sessions WHERE token_hash = ? AND expires_ms > ?",
                    _digest(token), _ms(clock))
    if row is None:
        return None
    out = {"kind": row["kind"], "subject": row["subject"], "csrf": row["csrf"], "role": None}
    if row["kind"] == "operator":
        op = store.one("SELECT role FROM operators WHERE name = ?", row["subject"])
        if op is None:          # the operator was removed: the session ends with them
            return None
        out["role"] = op["role"]
    return out


def close_session(store, token):
    with store.tx() as db:
        db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (_digest(token or ""),))


def csrf_ok(sess, given):
    return bool(given) and hmac.compare_digest(sess["csrf"].encode(), given.encode())


# ---- the owner's app: one live link per account ----

def link_owner(store, hub, ttl_s=LINK_TTL_S, clock=time.time):
    """A new app link token for `hub`'s owner (shown once, stored hashed),
    valid ttl_s; the account's older links stop working."""
    ensure_schema(store)
    if store.one("SELECT 1 FROM accounts WHERE hub = ?", hub) is None:
        raise OperatorError("no account %s" % hub)
    if ttl_s <= 0:
        raise OperatorError("a link must be valid for some time")
    token = secrets.token_urlsafe(32)
    now = _ms(clock)
    with store.tx() as db:
        db.execute("DELETE FROM owner_links WHERE hub = ? OR expires_ms <= ?", (hub, now))
        db.execute("INSERT INTO owner_links (token_hash, hub, created_ms, expires_ms) "
                   "VALUES (?,?,?,?)", (_digest(token), hub, now, now + int(ttl_s * 1000)))
    return token


def owner_hub(store, token, clock=time.time):
    """The hub a live app link token belongs to, or None."""
    if not token:
        return None
    row = store.one("SELECT hub FROM owner_links WHERE token_hash = ? AND expires_ms > ?",
                    _digest(token), _ms(clock))
    return row["hub"] if row else None


def links(store, clock=time.time):
    """The live links: [{"id", "hub", "created_ms", "expires_ms"}]; id is a
    short prefix of the token's hash (to revoke by), never the token."""
    return [{"id": r["token_hash"][:12], "hub": r["hub"], "created_ms": r["created_ms"],
             "expires_ms": r["expires_ms"]}
            for r in store.q("SELECT * FROM owner_links WHERE expires_ms > ? ORDER BY hub",
                             _ms(clock))]


def revoke_links(store, hub_or_id):
    """End the links of an account (by hub) or the one link with this id; how many."""
    with store.tx() as db:
        n = db.execute("DELETE FROM owner_links WHERE hub = ?", (hub_or_id,)).rowcount
        if not n and re.fullmatch(r"[0-9a-f]{12}", hub_or_id or ""):
            n = db.execute("DELETE FROM owner_links WHERE token_hash LIKE ?",
                           (hub_or_id + "%",)).rowcount
    return n
