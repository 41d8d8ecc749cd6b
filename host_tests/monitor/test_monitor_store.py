"""The store's schema versions (a plain list that other modules append to), and
what the service is made of when nothing is plugged in."""
import sqlite3

import pytest

from desk_helpers import add_account, query
from monitor import store as store_module
from monitor.store import MIGRATIONS, Store


def test_a_store_made_before_versioning_is_brought_up_to_date(db):
    old = sqlite3.connect(db)
    old.executescript(store_module.SCHEMA_1)    # what every earlier version created
    old.execute("INSERT INTO accounts (hub, secret, created_ms) VALUES ('hub-1', x'00', 1)")
    old.commit()
    old.close()
    s = Store(db)
    assert s.one("PRAGMA user_version")[0] == len(MIGRATIONS)
    assert {"closed_ms", "hold_until_ms", "overdue"} <= {
        r["name"] for r in s.q("PRAGMA table_info(cases)")}
    assert s.q("SELECT * FROM outbox") == []
    s.close()
    assert Store(db).one("PRAGMA user_version")[0] == len(MIGRATIONS)   # once, not twice
    assert [r["hub"] for r in query(db, "SELECT hub FROM accounts")] == ["hub-1"]


def test_a_new_store_has_every_version(db):
    add_account(db)
    assert query(db, "PRAGMA user_version")[0]["user_version"] == len(MIGRATIONS)


def test_the_service_takes_calls_at_the_console_unless_a_provider_plugs_in(db):
    from monitor import calls
    from monitor.receiver import Receiver, Settings
    from tools.sim.callee import AutomaticCallee
    assert isinstance(Receiver(Settings(db=db)).provider, calls.OperatorConsole)
    with pytest.raises(ValueError, match="tools/sim/callee.py"):
        Receiver(Settings(db=db, calls="auto"))
    callee = AutomaticCallee()
    assert Receiver(Settings(db=db), provider=callee).provider is callee
