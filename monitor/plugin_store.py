"""What the service offers the programs that plug into it or watch it (a call
provider, the simulation's page: tools/sim/) instead of its tables, so they
keep working whatever the store's schema becomes.

    case(store, case_id)            one case as a dict (None if there is none)
    ProviderTable(name, columns)    a call provider's own rows in the case store

A provider's table is its own: the service's schema knows nothing of it. It
lives in the case store so that any worker process can act on its rows and
they survive a restart. Rows are added in a transaction of their own; the
row a call needs is taken (read and deleted) inside the transaction the Desk
runs for that call (`placed`), so it goes only if the call does."""
import re

_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


def case(store, case_id):
    row = store.one("SELECT * FROM cases WHERE id = ?", case_id)
    return dict(row) if row is not None else None


def _name(name):
    if not _NAME.match(name):
        raise ValueError("not a plain lower-case SQL name: %r" % (name,))
    return name


def _where(match):
    if not match:
        return "", ()
    names = sorted(match)
    return (" WHERE " + " AND ".join("%s = ?" % _name(n) for n in names),
            tuple(match[n] for n in names))


class ProviderTable:
    """columns: the table's columns in SQLite's DDL (PostgreSQL gets its types,
    Store.script); an `id INTEGER PRIMARY KEY` is added first, and rows are
    taken in id order."""

    def __init__(self, name, columns):
        self.name = _name(name)
        self.schema = "CREATE TABLE IF NOT EXISTS %s (\n  id INTEGER PRIMARY KEY,\n  %s\n)" % (
            self.name, ",\n  ".join(c.strip() for c in columns))

    def prepare(self, store):
        """Create the table if it is not there yet (its own transaction)."""
        store.ensure(self.schema)

    def add(self, store, rows):
        """Insert rows ({column: value}, all with the same columns) in one transaction."""
        rows = list(rows)
        if not rows:
            return 0
        cols = [_name(c) for c in rows[0]]
        with store.tx() as db:
            for r in rows:
                db.execute("INSERT INTO %s (%s) VALUES (%s)"
                           % (self.name, ", ".join(cols), ", ".join("?" * len(cols))),
                           tuple(r[c] for c in cols))
        return len(rows)

    def take(self, store, **match):
        """Inside the caller's transaction: the first row (by id) matching
        {column: value}, deleted; None when there is none."""
        where, args = _where(match)
        row = store.one("SELECT * FROM %s%s ORDER BY id LIMIT 1" % (self.name, where), *args)
        if row is None:
            return None
        store.x("DELETE FROM %s WHERE id = ?" % self.name, row["id"])
        return dict(row)

    def clear(self, store, **match):
        """Delete every row matching {column: value} (all when none given)."""
        where, args = _where(match)
        with store.tx():
            return store.x("DELETE FROM %s%s" % (self.name, where), *args)
