"""The demo hub config and monitoring account (tools/demo/*.json), with a
story's or a user's changes laid over them."""
import copy
import json
import os

from tools import paths

DEMO = os.path.join(paths.ROOT, "tools", "demo")
ACCOUNT_FIELDS = ("hub", "secret", "address", "contacts", "password", "policy",
                  "call_next_contacts", "test_interval_s")


def _load(name):
    # An absolute path is used as it is (os.path.join drops DEMO then).
    with open(os.path.join(DEMO, name)) as f:
        return json.load(f)


def hub_config(changes=None, path=None):
    """The demo config.json; top-level fields of `changes` replace the demo's."""
    cfg = _load(path or "hub-config.json")
    for k, v in (changes or {}).items():
        cfg[k] = copy.deepcopy(v)
    return cfg


def account(config, changes=None, path=None):
    """The demo account for this hub; `changes` replace its fields. The secret
    defaults to the hub's own (both sides must hold the same one)."""
    acct = _load(path or "account.json")
    acct.update(copy.deepcopy(changes or {}))
    unknown = set(acct) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValueError("account: unknown fields %s (known: %s)"
                         % (", ".join(sorted(unknown)), ", ".join(ACCOUNT_FIELDS)))
    acct["hub"] = config["hub_id"] if "hub" not in (changes or {}) else acct["hub"]
    acct.setdefault("secret", config["secret"])
    return acct


def add_account(db, acct):
    """Store the account in the monitoring endpoint's case store."""
    from monitor import accounts
    from monitor.store import Store
    store = Store(db)
    kw = {k: acct[k] for k in ("address", "password", "policy", "call_next_contacts",
                               "test_interval_s") if k in acct}
    try:
        accounts.add(store, acct["hub"], bytes.fromhex(acct["secret"]), acct.get("contacts", []),
                     **kw)
    finally:
        store.close()
