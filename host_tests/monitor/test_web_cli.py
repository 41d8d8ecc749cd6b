"""`python -m monitor` for the web side: operators and the owners' app links
from the command line, with no password ever in argv (any user on the machine
reads argv in `ps`)."""
import json
import os
import subprocess
import sys

from desk_helpers import SECRET, query
from monitor import operators
from monitor.store import Store
from tools import paths


def monitor_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "monitor"] + list(args), cwd=paths.ROOT,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          env=dict(os.environ, **(env or {})))


def test_operator_add_reads_the_password_from_a_file_or_the_environment(db, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery\n")
    done = monitor_cli("operator", "add", "ann", "--role", "admin", "--password-file", str(pw),
                       "--db", db)
    assert done.returncode == 0, done.stderr
    done = monitor_cli("operator", "add", "bob", "--db", db,
                       env={"MONITOR_OPERATOR_PASSWORD": "another long one"})
    assert done.returncode == 0, done.stderr
    rows = query(db, "SELECT name, role, password_hash FROM operators ORDER BY name")
    assert [(r["name"], r["role"]) for r in rows] == [("ann", "admin"), ("bob", "operator")]
    assert all(r["password_hash"].startswith("$argon2id$") for r in rows)
    assert "correct horse" not in str(rows)
    listed = monitor_cli("operator", "list", "--db", db)
    assert listed.stdout.split() == ["ann", "admin", "bob", "operator"]


def test_no_password_on_the_command_line(db):
    done = monitor_cli("operator", "add", "ann", "--password", "correct horse battery",
                       "--db", db)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr
    done = monitor_cli("account", "add", "hub-1", "--secret", SECRET.hex(), "--password",
                       "blue heron", "--db", db)
    assert done.returncode == 2 and "would show the verbal password" in done.stderr
    assert monitor_cli("account", "list", "--db", db).stdout == ""      # nothing was created
    # Without a terminal to ask on, and no file or variable, it says how.
    done = monitor_cli("operator", "add", "ann", "--db", db)
    assert done.returncode == 2 and "--password-file" in done.stderr
    done = monitor_cli("operator", "add", "ann", "--db", db,
                       env={"MONITOR_OPERATOR_PASSWORD": "short"})
    assert done.returncode == 2 and "at least 10" in done.stderr


def test_the_verbal_password_comes_from_a_file_or_the_environment(db, tmp_path):
    from monitor import verbal
    done = monitor_cli("account", "add", "hub-1", "--secret", SECRET.hex(), "--contact",
                       "Ann:+1 555 0100", "--db", db,
                       env={"MONITOR_VERBAL_PASSWORD": "blue heron"})
    assert done.returncode == 0, done.stderr
    stored = query(db, "SELECT password_hash FROM accounts")[0]["password_hash"]
    assert verbal.check(stored, "Blue Heron")
    pw = tmp_path / "verbal"
    pw.write_text("green kite\n")
    done = monitor_cli("account", "edit", "hub-1", "--password-file", str(pw), "--db", db)
    assert done.returncode == 0, done.stderr
    stored = query(db, "SELECT password_hash FROM accounts")[0]["password_hash"]
    assert verbal.check(stored, "green kite") and not verbal.check(stored, "blue heron")


def test_account_link_prints_the_owners_app_url(db):
    done = monitor_cli("account", "add", "hub-1", "--secret", SECRET.hex(), "--db", db,
                       env={"MONITOR_VERBAL_PASSWORD": "blue heron"})
    assert done.returncode == 0, done.stderr
    done = monitor_cli("account", "link", "hub-1", "--url", "https://alarm.example", "--db", db)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("https://alarm.example/app/link/")
    from monitor import operators
    from monitor.store import Store
    store = Store(db)
    try:
        assert operators.owner_hub(store, url.rsplit("/", 1)[1]) == "hub-1"
    finally:
        store.close()
    assert monitor_cli("account", "link", "hub-9", "--db", db).returncode == 2


def test_account_links_lists_without_tokens_and_unlink_ends_one(db):
    for hub in ("hub-1", "hub-2"):
        done = monitor_cli("account", "add", hub, "--secret", SECRET.hex(), "--db", db,
                           env={"MONITOR_VERBAL_PASSWORD": "blue heron"})
        assert done.returncode == 0, done.stderr
    tokens = {}
    for hub in ("hub-1", "hub-2"):
        done = monitor_cli("account", "link", hub, "--days", "2", "--db", db)
        assert done.returncode == 0, done.stderr
        tokens[hub] = done.stdout.strip().rsplit("/", 1)[1]
    done = monitor_cli("account", "links", "--db", db)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [l["hub"] for l in listed] == ["hub-1", "hub-2"]
    assert all(l["expires_ms"] - l["created_ms"] == 2 * 86400 * 1000 for l in listed)
    assert not any(t in done.stdout for t in tokens.values())      # never the tokens
    # By a link's id, then by hub; a third time there is nothing left to end.
    done = monitor_cli("account", "unlink", listed[0]["id"], "--db", db)
    assert done.returncode == 0 and "revoked" in done.stdout, done.stderr
    assert monitor_cli("account", "unlink", "hub-2", "--db", db).returncode == 0
    assert json.loads(monitor_cli("account", "links", "--db", db).stdout) == []
    done = monitor_cli("account", "unlink", "hub-2", "--db", db)
    assert done.returncode == 2 and "no live link hub-2" in done.stderr, done.stderr
    store = Store(db)
    try:
        assert all(operators.owner_hub(store, t) is None for t in tokens.values())
    finally:
        store.close()


def test_the_first_run_says_how_to_create_an_operator(db, service):
    s = service("--console-port", "0")
    err = "".join(s.err)
    assert "console: http://127.0.0.1:" in err
    assert "python -m monitor operator add NAME --role admin --db %s" % db in err


def test_operator_add_asks_on_a_terminal(db):
    import pty
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "operator", "add", "cy", "--db", db],
                            cwd=paths.ROOT, preexec_fn=lambda: os.login_tty(slave),
                            stdin=None, stdout=None, stderr=None)
    os.close(slave)
    said = b""
    try:
        for answer in (b"a terminal password\n", b"a terminal password\n"):
            while not said.rstrip().endswith(b":"):
                said += os.read(master, 1024)
            assert b"a terminal password" not in said          # not echoed
            os.write(master, answer)
            said = b""
        assert proc.wait(60) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    from monitor import operators
    pw_hash = query(db, "SELECT password_hash FROM operators")[0]["password_hash"]
    assert operators.verify(pw_hash, "a terminal password")


def test_operator_passwd_and_remove_end_the_operators_sessions(db, monitor, tmp_path):
    from desk_helpers import add_account
    from web_helpers import OP_PASSWORD, add_operator, client_for, login
    add_account(db)
    add_operator(db, "ann")
    add_operator(db, "bob")
    rx, _ = monitor(calls="console")
    ann, _ = client_for(rx)
    bob, _ = client_for(rx)
    login(ann, "ann")
    login(bob, "bob")
    assert ann.get("/api/me").json()["logged_in"]
    pw = tmp_path / "pw"
    pw.write_text("a brand new password\n")
    done = monitor_cli("operator", "passwd", "ann", "--password-file", str(pw), "--db", db)
    assert done.returncode == 0, done.stderr
    assert "a brand new" not in done.stdout + done.stderr
    # The session made with the old password is over; the old password opens none.
    assert not ann.get("/api/me").json()["logged_in"]
    r = ann.post("/api/login", json={"name": "ann", "password": OP_PASSWORD},
                 headers={"Origin": str(ann.base_url).rstrip("/")})
    assert r.status_code == 401
    assert login(ann, "ann", "a brand new password")
    # From the environment too; bob is untouched by ann's change.
    done = monitor_cli("operator", "passwd", "ann", "--db", db,
                       env={"MONITOR_OPERATOR_PASSWORD": "yet another password"})
    assert done.returncode == 0, done.stderr
    assert not ann.get("/api/me").json()["logged_in"]
    assert bob.get("/api/me").json()["logged_in"]

    done = monitor_cli("operator", "remove", "bob", "--db", db)
    assert done.returncode == 0, done.stderr
    assert not bob.get("/api/me").json()["logged_in"]
    assert monitor_cli("operator", "list", "--db", db).stdout.split() == ["ann", "operator"]
    assert query(db, "SELECT subject FROM web_sessions WHERE subject = 'bob'") == []


def test_operator_passwd_and_remove_say_what_is_wrong(db):
    from web_helpers import add_operator
    add_operator(db, "ann")
    env = {"MONITOR_OPERATOR_PASSWORD": "long enough password"}
    done = monitor_cli("operator", "passwd", "nobody", "--db", db, env=env)
    assert done.returncode == 2 and "no operator nobody" in done.stderr
    done = monitor_cli("operator", "remove", "nobody", "--db", db)
    assert done.returncode == 2 and "no operator nobody" in done.stderr
    done = monitor_cli("operator", "passwd", "ann", "--db", db,
                       env={"MONITOR_OPERATOR_PASSWORD": "short"})
    assert done.returncode == 2 and "at least 10" in done.stderr
    done = monitor_cli("operator", "passwd", "ann", "--db", db)
    assert done.returncode == 2 and "--password-file" in done.stderr
    done = monitor_cli("operator", "passwd", "ann", "--password", "long enough password",
                       "--db", db)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr
