"""A real PostgreSQL for the tests (tools/postgres.py: Debian's server, run
by initdb + pg_ctl in a temp dir, reached over a unix socket in that dir).

One server for the whole session, started the first time a test asks for
it; every test gets a database of its own, copied from a template that
already holds the case store's schema (CREATE DATABASE ... TEMPLATE is a file
copy: about a tenth of a second). Use it from any test folder:

    from postgres_server import pg_databases      # in a conftest.py: the fixture
    url = pg_databases.fresh()                     # in a test: a new, empty case store
"""
import itertools

import pytest

from tools.postgres import PostgresServer

TEMPLATE = "case_store_template"


class Databases:
    def __init__(self, server):
        self.server = server
        self._names = itertools.count(1)
        from monitor.store import Store
        Store(server.create_database(TEMPLATE)).close()     # migrated once, copied after

    def fresh(self, prefix="t"):
        """The URL of a new database holding an empty case store."""
        return self.server.create_database("%s_%d" % (prefix, next(self._names)),
                                           template=TEMPLATE)

    def empty(self, prefix="e"):
        """The URL of a new database without any tables (the store makes them)."""
        return self.server.create_database("%s_%d" % (prefix, next(self._names)))


@pytest.fixture(scope="session")
def pg_server():
    """The session's private PostgreSQL server (tools.postgres.PostgresServer)."""
    server = PostgresServer().start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def pg_databases(pg_server):
    """Databases on the session's server: .fresh() -> URL of a new case store."""
    return Databases(pg_server)


def store_param(request, tmp_path):
    """For a fixture with params=BACKENDS: a SQLite file in tmp_path, or a
    fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "monitor.db")
    return request.getfixturevalue("pg_databases").fresh()


BACKENDS = ["sqlite", "postgresql"]
