"""Found by trying to break in: the store's file modes, and verbal passwords
kept off the command line (where `ps` shows them to every user)."""
import os
import stat
import subprocess
import sys

from desk_helpers import PASSWORD, SECRET, add_account, query
from monitor import verbal
from monitor.store import Store
from tools import paths


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_store_and_its_wal_are_readable_by_their_owner_only(tmp_path):
    db = str(tmp_path / "monitor.db")
    old = os.umask(0o022)           # the usual umask: new files would be world-readable
    try:
        add_account(db)
        store = Store(db)           # open, so the WAL and SHM files exist
        store.count("stored")
        assert {name: _mode(name) for name in (db, db + "-wal", db + "-shm")} == \
            {db: 0o600, db + "-wal": 0o600, db + "-shm": 0o600}
        store.close()
    finally:
        os.umask(old)


def test_a_store_made_world_readable_before_loses_that(tmp_path):
    db = str(tmp_path / "monitor.db")
    Store(db).close()
    os.chmod(db, 0o644)
    Store(db).close()
    assert _mode(db) == 0o640       # the group is the operator's choice; others are out


def _account(db, *args, env=None, stdin=subprocess.DEVNULL):
    return subprocess.run([sys.executable, "-m", "monitor", "account", args[0], "--db", db]
                          + list(args[1:]), cwd=paths.ROOT, capture_output=True, text=True,
                          stdin=stdin, timeout=60,
                          env=dict({k: v for k, v in os.environ.items()
                                    if k != "MONITOR_VERBAL_PASSWORD"}, **(env or {})))


def test_account_add_without_a_terminal_or_a_password_source_refuses(db):
    done = _account(db, "add", "hub-1", "--secret", SECRET.hex())
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--password-file" in done.stderr, done.stderr
    assert query(db, "SELECT * FROM accounts") == []


def test_a_password_on_the_command_line_is_refused(db):
    done = _account(db, "add", "hub-1", "--secret", SECRET.hex(), "--password", PASSWORD)
    assert done.returncode == 2 and "ps" in done.stderr
    assert query(db, "SELECT * FROM accounts") == []


def test_a_database_password_in_the_store_url_is_refused(pg_databases):
    url = pg_databases.fresh()
    for given in (url.replace("postgres@", "postgres:hunter2@"), url + "&password=hunter2"):
        done = _account(given, "list")
        assert done.returncode == 2 and "PGPASSWORD" in done.stderr, done.stderr
        assert "hunter2" not in done.stderr
    done = _account(url.replace("/t_", "/no_such_db_"), "list")
    assert done.returncode == 2 and done.stderr.count("\n") <= 2, done.stderr
    assert "no_such_db_" in done.stderr and "Traceback" not in done.stderr


def test_the_password_comes_from_a_file_or_the_environment(db, tmp_path):
    secret_file = tmp_path / "verbal"
    secret_file.write_text(PASSWORD + "\n")
    secret_file.chmod(0o600)
    done = _account(db, "add", "hub-1", "--secret", SECRET.hex(), "--password-file",
                    str(secret_file))
    assert done.returncode == 0, done.stderr
    done = _account(db, "add", "hub-2", "--secret", SECRET.hex(),
                    env={"MONITOR_VERBAL_PASSWORD": "green kite"})
    assert done.returncode == 0, done.stderr
    hashes = {r["hub"]: r["password_hash"] for r in
              query(db, "SELECT hub, password_hash FROM accounts")}
    assert verbal.check(hashes["hub-1"], PASSWORD) and verbal.check(hashes["hub-2"], "Green Kite")
    # An edit without a source keeps the password it has.
    assert _account(db, "edit", "hub-1", "--address", "12 Elm Street").returncode == 0
    assert query(db, "SELECT password_hash FROM accounts WHERE hub = 'hub-1'")[0][
        "password_hash"] == hashes["hub-1"]
    missing = _account(db, "edit", "hub-1", "--password-file", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "nope" in missing.stderr
