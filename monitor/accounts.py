"""Accounts: a hub, its secret, the premises, the emergency contacts in calling
order, the verbal password (hashed), the customer's plan settings and, when
the hub also reports by SIA DC-09, its DC-09 account number and key."""
from monitor import verbal
from monitor.clock import SYSTEM

POLICIES = ("if_no_one_cancels", "only_if_i_say")
DEFAULT_TEST_INTERVAL_S = 3600


class AccountError(ValueError):
    pass


def _check(policy=None, contacts=None, secret=None):
    if policy is not None and policy not in POLICIES:
        raise AccountError("policy must be one of %s" % ", ".join(POLICIES))
    if secret is not None and len(secret) < 16:
        raise AccountError("the hub secret must be at least 16 bytes")
    for c in contacts or ():
        if not c.get("name") or not c.get("phone"):
            raise AccountError("every contact needs a name and a phone number")


def dc09_account(text):
    """The DC-09 account number as stored (upper case), or AccountError.
    3 to 16 hex digits, as pysiaalarm (and so Home Assistant) takes them."""
    # pysiaalarm (and the pycryptodome it loads) only where DC-09 is used.
    from pysiaalarm import SIAAccount
    from pysiaalarm.errors import InvalidAccountFormatError, InvalidAccountLengthError
    text = (text or "").strip().upper()
    try:
        SIAAccount.validate_account(account_id=text)
        ok = _hex(text)     # validate_account alone takes "-12" and "0x12" (int() does)
    except (InvalidAccountFormatError, InvalidAccountLengthError, ValueError):
        ok = False
    if not ok:
        raise AccountError("the DC-09 account must be 3 to 16 hex digits, as configured "
                           "on the hub")
    return text


def dc09_key(text):
    """The DC-09 key as stored, or AccountError: 16, 24 or 32 hex characters,
    kept exactly as given (receivers use the characters themselves as the AES
    key, so their case matters). The key itself never goes into the message."""
    from pysiaalarm import SIAAccount
    from pysiaalarm.errors import InvalidKeyFormatError, InvalidKeyLengthError
    text = (text or "").strip()
    try:
        SIAAccount.validate_account(key=text)
        ok = _hex(text)
    except (InvalidKeyFormatError, InvalidKeyLengthError, ValueError):
        ok = False
    if not ok:
        raise AccountError("the DC-09 key must be 16, 24 or 32 hex characters (AES-128, "
                           "-192 or -256), as configured on the hub")
    return text


def _hex(text):
    return bool(text) and all(c in "0123456789abcdefABCDEF" for c in text)


def _dc09_free(store, hub, number):
    row = store.one("SELECT hub FROM accounts WHERE dc09_account = ? AND hub <> ?", number, hub)
    if row is not None:
        raise AccountError("DC-09 account %s is already %s's" % (number, row["hub"]))


def add(store, hub, secret, contacts=(), password=None, policy="if_no_one_cancels",
        address="", call_next_contacts=False, test_interval_s=DEFAULT_TEST_INTERVAL_S,
        clock=SYSTEM, dc09=None, dc09_secret=None):
    """Create an account. contacts: [{"name", "phone"}] in calling order.
    dc09: the hub's DC-09 account number; dc09_secret: its DC-09 key (None: plain)."""
    _check(policy, contacts, secret)
    dc09 = dc09_account(dc09) if dc09 is not None else None
    dc09_secret = dc09_key(dc09_secret) if dc09_secret is not None else None
    if dc09_secret is not None and dc09 is None:
        raise AccountError("a DC-09 key needs the DC-09 account number (--dc09-account)")
    if not hub or len(hub) > 64 or "/" in hub or "+" in hub or "#" in hub:
        raise AccountError("hub id must be 1-64 characters without / + #")
    pw = verbal.hash_password(password) if password else None
    with store.tx() as db:
        if store.one("SELECT 1 FROM accounts WHERE hub = ?", hub):
            raise AccountError("account %s exists (use edit)" % hub)
        if dc09 is not None:
            _dc09_free(store, hub, dc09)
        db.execute("INSERT INTO accounts (hub, secret, address, password_hash, policy, "
                   "call_next_contacts, test_interval_s, created_ms, dc09_account, dc09_key) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (hub, bytes(secret), address, pw, policy, int(bool(call_next_contacts)),
                    int(test_interval_s), clock.now_ms(), dc09, dc09_secret))
        _set_contacts(db, hub, contacts)


def edit(store, hub, secret=None, contacts=None, password=None, policy=None, address=None,
         call_next_contacts=None, test_interval_s=None, dc09=None, dc09_secret=None,
         dc09_off=False):
    """Change the given fields only. dc09_off: the hub no longer reports by
    DC-09 (its account number and key are forgotten)."""
    _check(policy, contacts, secret)
    if dc09_off and (dc09 is not None or dc09_secret is not None):
        raise AccountError("DC-09 off, or a DC-09 account and key: not both")
    dc09 = dc09_account(dc09) if dc09 is not None else None
    dc09_secret = dc09_key(dc09_secret) if dc09_secret is not None else None
    pw = verbal.hash_password(password) if password else None
    with store.tx() as db:
        row = store.one("SELECT dc09_account FROM accounts WHERE hub = ?", hub)
        if row is None:
            raise AccountError("no account %s" % hub)
        if dc09 is not None:
            _dc09_free(store, hub, dc09)
        elif dc09_secret is not None and row["dc09_account"] is None:
            raise AccountError("a DC-09 key needs the DC-09 account number (--dc09-account)")
        fields = {"secret": bytes(secret) if secret is not None else None,
                  "password_hash": pw, "policy": policy, "address": address,
                  "call_next_contacts": (int(bool(call_next_contacts))
                                         if call_next_contacts is not None else None),
                  "test_interval_s": test_interval_s, "dc09_account": dc09,
                  "dc09_key": dc09_secret}
        for k, v in fields.items():
            if v is not None:
                db.execute("UPDATE accounts SET %s = ? WHERE hub = ?" % k, (v, hub))
        if contacts is not None:
            db.execute("DELETE FROM contacts WHERE hub = ?", (hub,))
            _set_contacts(db, hub, contacts)
        if dc09_off:
            db.execute("UPDATE accounts SET dc09_account = NULL, dc09_key = NULL "
                       "WHERE hub = ?", (hub,))


def _set_contacts(db, hub, contacts):
    for i, c in enumerate(contacts, 1):
        db.execute("INSERT INTO contacts (hub, position, name, phone) VALUES (?,?,?,?)",
                   (hub, i, c["name"], c["phone"]))


def get(store, hub):
    """The account as a dict (no secret, no password hash), or None."""
    row = store.one("SELECT * FROM accounts WHERE hub = ?", hub)
    if row is None:
        return None
    return {"hub": row["hub"], "address": row["address"], "policy": row["policy"],
            "call_next_contacts": bool(row["call_next_contacts"]),
            "test_interval_s": row["test_interval_s"],
            "verbal_password_set": row["password_hash"] is not None,
            "availability": row["availability"],
            "dc09_account": row["dc09_account"],
            "dc09_encrypted": row["dc09_key"] is not None,
            "dc09_heard_ms": row["dc09_heard_ms"],
            "contacts": contacts(store, hub)}


def by_dc09(store, number):
    """(hub, key or None) of the account with this DC-09 account number, or None."""
    row = store.one("SELECT hub, dc09_key FROM accounts WHERE dc09_account = ?", number.upper())
    return (row["hub"], row["dc09_key"]) if row else None


def contacts(store, hub):
    return [{"position": r["position"], "name": r["name"], "phone": r["phone"]}
            for r in store.q("SELECT * FROM contacts WHERE hub = ? ORDER BY position", hub)]


def all_hubs(store):
    return [r["hub"] for r in store.q("SELECT hub FROM accounts ORDER BY hub")]


def secret_of(store, hub):
    row = store.one("SELECT secret FROM accounts WHERE hub = ?", hub)
    return bytes(row["secret"]) if row else None


def secrets_of(store, hubs):
    """{hub: secret} of these hubs that have an account, in one query."""
    cond, args = store.among("hub", hubs)
    return {r["hub"]: bytes(r["secret"])
            for r in store.q("SELECT hub, secret FROM accounts WHERE " + cond, *args)}


def password_hash(store, hub):
    """The stored verbal password hash (None: none set), to check off the engine thread."""
    row = store.one("SELECT password_hash FROM accounts WHERE hub = ?", hub)
    return row["password_hash"] if row else None


def check_password(store, hub, spoken):
    row = store.one("SELECT password_hash FROM accounts WHERE hub = ?", hub)
    return verbal.check(row["password_hash"] if row else None, spoken)


def parse_contact(text):
    """'Name:+1 555 0100' -> {"name", "phone"} (the CLI's form)."""
    name, sep, phone = text.partition(":")
    if not sep or not name.strip() or not phone.strip():
        raise AccountError("contact must look like 'Name:phone', got %r" % text)
    return {"name": name.strip(), "phone": phone.strip()}
