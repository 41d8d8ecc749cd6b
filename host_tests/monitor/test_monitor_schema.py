"""One schema for both stores (monitor/schema.py): a new store, and a store
brought up from each older version, have exactly the schema a new store had
before the SQLite and PostgreSQL tables were made one source. The expected
schemas were dumped then (schema_dump.py) into schema_sqlite.txt and
schema_postgresql.txt; a new version changes them on purpose, with a new dump."""
import os
import sqlite3

import pytest

import schema_dump
from monitor import pg, pg_schema, schema
from monitor.store import MIGRATIONS, Store

HERE = os.path.dirname(os.path.abspath(__file__))


def expected(backend):
    with open(os.path.join(HERE, "schema_%s.txt" % backend)) as f:
        return f.read()


def made(db):
    s = Store(db)
    try:
        return schema_dump.dump(s)
    finally:
        s.close()


def at_version(db, version):
    """A store made as the code of `version` made it (the later entries of
    MIGRATIONS left out while it is made)."""
    later = MIGRATIONS[version:]
    del MIGRATIONS[version:]
    try:
        Store(db).close()
    finally:
        MIGRATIONS.extend(later)


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "monitor.db")
    return request.getfixturevalue("pg_databases").empty()


def test_a_new_store_has_the_schema_it_always_had(new_db):
    assert made(new_db) == expected("postgresql" if pg.is_url(new_db) else "sqlite")


def test_the_store_is_the_same_twice_opened(new_db):
    first = made(new_db)
    assert made(new_db) == first


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_a_sqlite_store_of_every_older_version_comes_up_to_the_same_schema(sqlite_db,
                                                                           version):
    if version == 0:        # before versioning: the first schema, user_version 0
        old = sqlite3.connect(sqlite_db)
        old.executescript(schema.SCHEMA_1)
        old.close()
    else:
        at_version(sqlite_db, version)
        assert sqlite3.connect(sqlite_db).execute("PRAGMA user_version").fetchone()[0] == version
    assert made(sqlite_db) == expected("sqlite")


@pytest.mark.parametrize("version", [3, 4])
def test_a_postgresql_store_of_every_older_version_comes_up_to_the_same_schema(pg_databases,
                                                                               version):
    url = pg_databases.empty()
    at_version(url, version)
    s = Store(url, create=False)
    assert s.version() == version
    s.close()
    assert made(url) == expected("postgresql")


def test_postgresql_starts_from_sqlites_tables_at_the_baseline_version():
    """The baseline is written once, in SQLite's DDL: SQLite's first three
    versions with the signals table already in its third form."""
    assert pg_schema.BASELINE_VERSION == schema.BASELINE_VERSION == 3
    base = schema.postgres_baseline()
    assert schema.SIGNALS_3 in base and schema.SIGNALS_1 not in base
    assert pg.ddl(base) in pg_schema.BASELINE
    # Keys that are another table's key take its values: no identity of their own.
    assert "case_id BIGINT PRIMARY KEY REFERENCES cases(id)" in pg_schema.BASELINE
    assert "id BIGINT PRIMARY KEY REFERENCES timeline(id)" in pg_schema.BASELINE
