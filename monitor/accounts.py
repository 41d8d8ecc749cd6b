"""Accounts: a hub, its secret, the premises, the emergency contacts in calling
order, the verbal password (hashed) and the customer's plan settings."""
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


def add(store, hub, secret, contacts=(), password=None, policy="if_no_one_cancels",
        address="", call_next_contacts=False, test_interval_s=DEFAULT_TEST_INTERVAL_S,
        clock=SYSTEM):
    """Create an account. contacts: [{"name", "phone"}] in calling order."""
    _check(policy, contacts, secret)
    if not hub or len(hub) > 64 or "/" in hub or "+" in hub or "#" in hub:
        raise AccountError("hub id must be 1-64 characters without / + #")
    pw = verbal.hash_password(password) if password else None
    with store.tx() as db:
        if store.one("SELECT 1 FROM accounts WHERE hub = ?", hub):
            raise AccountError("account %s exists (use edit)" % hub)
        db.execute("INSERT INTO accounts (hub, secret, address, password_hash, policy, "
                   "call_next_contacts, test_interval_s, created_ms) VALUES (?,?,?,?,?,?,?,?)",
                   (hub, bytes(secret), address, pw, policy, int(bool(call_next_contacts)),
                    int(test_interval_s), clock.now_ms()))
        _set_contacts(db, hub, contacts)


def edit(store, hub, secret=None, contacts=None, password=None, policy=None, address=None,
         call_next_contacts=None, test_interval_s=None):
    """Change the given fields only."""
    _check(policy, contacts, secret)
    pw = verbal.hash_password(password) if password else None
    with store.tx() as db:
        if not store.one("SELECT 1 FROM accounts WHERE hub = ?", hub):
            raise AccountError("no account %s" % hub)
        fields = {"secret": bytes(secret) if secret is not None else None,
                  "password_hash": pw, "policy": policy, "address": address,
                  "call_next_contacts": (int(bool(call_next_contacts))
                                         if call_next_contacts is not None else None),
                  "test_interval_s": test_interval_s}
        for k, v in fields.items():
            if v is not None:
                db.execute("UPDATE accounts SET %s = ? WHERE hub = ?" % k, (v, hub))
        if contacts is not None:
            db.execute("DELETE FROM contacts WHERE hub = ?", (hub,))
            _set_contacts(db, hub, contacts)


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
            "contacts": contacts(store, hub)}


def contacts(store, hub):
    return [{"position": r["position"], "name": r["name"], "phone": r["phone"]}
            for r in store.q("SELECT * FROM contacts WHERE hub = ? ORDER BY position", hub)]


def all_hubs(store):
    return [r["hub"] for r in store.q("SELECT hub FROM accounts ORDER BY hub")]


def secret_of(store, hub):
    row = store.one("SELECT secret FROM accounts WHERE hub = ?", hub)
    return bytes(row["secret"]) if row else None


def check_password(store, hub, spoken):
    row = store.one("SELECT password_hash FROM accounts WHERE hub = ?", hub)
    return verbal.check(row["password_hash"] if row else None, spoken)


def parse_contact(text):
    """'Name:+1 555 0100' -> {"name", "phone"} (the CLI's form)."""
    name, sep, phone = text.partition(":")
    if not sep or not name.strip() or not phone.strip():
        raise AccountError("contact must look like 'Name:phone', got %r" % text)
    return {"name": name.strip(), "phone": phone.strip()}
