"""Shared by the monitoring-endpoint tests: the test account and reading the
store. (A module of its own: test files import it, never conftest.)"""
from monitor import accounts
from monitor.store import Store

SECRET = bytes(range(32))
PASSWORD = "Blue Heron"


def add_account(db, hub="hub-1", contacts=2, secret=SECRET, **kw):
    store = Store(db)
    people = [{"name": "Contact %d" % i, "phone": "+1 555 01%02d" % i}
              for i in range(1, contacts + 1)]
    kw.setdefault("password", PASSWORD)
    accounts.add(store, hub, secret, people, **kw)
    store.close()


def case_row(db, case_id):
    store = Store(db)
    try:
        return dict(store.one("SELECT * FROM cases WHERE id = ?", case_id))
    finally:
        store.close()


def query(db, sql, *args):
    store = Store(db)
    try:
        return [dict(r) for r in store.q(sql, *args)]
    finally:
        store.close()
