"""A worker started while its PostgreSQL server is down (issue 18): a
supervisor restarting it during an outage, or a machine booting before its
database. It starts, says so once, answers 503 on /health and waits for the
store as a running worker does; once the server is up it stores and acks. A
store it can never reach as given (no such database) is still refused at once."""
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from desk_helpers import add_account
from tools import paths
from tools.postgres import PostgresServer, wait_ready
from waiting import until


@pytest.fixture
def server():
    s = PostgresServer().start()
    yield s
    s.remove()


def _run(db, broker, prefix, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([paths.ROOT,
                                                       os.path.join(paths.ROOT, "firmware")]))
    return subprocess.Popen([sys.executable, "-m", "monitor", "run", "--db", db,
                             "--port", str(broker.port), "--prefix", prefix] + list(args),
                            cwd=paths.ROOT, stderr=subprocess.PIPE, text=True, env=env)


def _health(port):
    """The status code and what anyone is told (loopback also gets details)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5) as r:
            code, body = r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        code, body = e.code, json.loads(e.read())
    except OSError:
        return None, None
    return code, {"ok": body["ok"], "status": body["status"]}


def test_a_worker_started_while_postgresql_is_down_waits_for_it(server, broker, prefix, hubs):
    db = server.create_database("boot")
    add_account(db)
    server.stop("fast")
    # Port 0: a port picked here could be taken by another worker before the monitor binds it.
    proc = _run(db, broker, prefix, "--console-port", "0")
    said = []
    reader = threading.Thread(target=lambda: said.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        assert until(lambda: _console_port(said) or proc.poll() is not None, 30), said
        assert proc.poll() is None, "".join(said)
        web = _console_port(said)
        assert _health(web) == (503, {"ok": False, "status": "store failing"})
        h = hubs()
        key = h.signal("hub-1", "E602", zone=0)
        assert not until(lambda: ("hub-1", key) in h.acked, 2)
        assert proc.poll() is None
        server.start()
        wait_ready(server)
        assert h.wait_acked([("hub-1", key)], timeout=30)
        assert until(lambda: _health(web) == (200, {"ok": True, "status": "ok"}), 15), \
            _health(web)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(10)
    err = "".join(said)
    assert "Traceback" not in err, err
    assert "case store failing" in err and "case store back" in err, err


def _console_port(said):
    found = re.search(r"^console: http://127\.0\.0\.1:(\d+)$", "".join(said), re.M)
    return int(found.group(1)) if found else None


def test_a_database_that_does_not_exist_is_refused_at_once_in_one_line(server, broker, prefix):
    db = server.url("no_such_database")
    proc = _run(db, broker, prefix)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 2, err
    assert err.count("\n") == 1 and "no_such_database" in err, err
