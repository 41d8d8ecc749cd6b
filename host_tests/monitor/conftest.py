"""Monitoring-endpoint test plumbing for the end-to-end tests: a real
mosquitto, real SQLite files in tmp dirs and a real PostgreSQL (each test
on both), the service in-process or as
`python -m tools.sim.monitor run` subprocesses (restarts, kill -9, two
workers), and simulated hubs on the wire. The plans themselves are tested on a
fake clock without any of this (engine_rig.py)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from desk_helpers import SECRET
from postgres_server import BACKENDS, pg_databases, pg_server, store_param  # noqa: F401
from tools import paths
from tools.hubs import Hubs

RING_S = 0.3            # end-to-end runs use the real clock: a short ring


@pytest.fixture
def prefix(request):
    return "t/" + request.node.name.replace("[", "_").replace("]", "_")[:60]


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    """The case store every test here runs on twice: a SQLite file, and a
    fresh database on the session's real PostgreSQL server."""
    return store_param(request, tmp_path)


@pytest.fixture
def sqlite_db(tmp_path):
    """For what only SQLite has (its files, stores from before versioning)."""
    return str(tmp_path / "monitor.db")


class Lines:
    """Timeline JSON lines as they are emitted, with waits."""

    def __init__(self):
        self.all = []
        self.cond = threading.Condition()

    def add(self, line):
        with self.cond:
            self.all.append(line)
            self.cond.notify_all()

    def wait(self, timeout=10.0, **match):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.all:
                    if all(line.get(k) == v for k, v in match.items()):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no line %s in %s" % (match, self.steps()))
                self.cond.wait(left)

    def steps(self, case=None):
        with self.cond:
            return [(l["step"], l.get("reason")) for l in self.all
                    if case is None or l["case"] == case]

    def where(self, **match):
        with self.cond:
            return [l for l in self.all if all(l.get(k) == v for k, v in match.items())]


@pytest.fixture
def monitor(broker, prefix, db):
    """Start the service in this process: monitor(**Settings overrides) -> (rx, lines)."""
    from monitor.receiver import Receiver, Settings
    made = []

    def start(**kw):
        lines = Lines()
        kw.setdefault("ring_s", RING_S)
        rx = Receiver(Settings(db=db, port=broker.port, prefix=prefix, **kw), emit=lines.add)
        rx.start()
        made.append(rx)
        return rx, lines

    yield start
    for rx in made:
        rx.stop()


@pytest.fixture
def hubs(broker, prefix):
    made = []

    def make(secrets=None):
        h = Hubs(broker.port, prefix, secrets or {"hub-1": SECRET})
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


class Service:
    """The service as a subprocess (the simulation's runner, so the automatic
    callee and fault injection can plug in), its JSON lines collected."""

    def __init__(self, db, port, prefix, *args, env=None):
        cmd = [sys.executable, "-m", "tools.sim.monitor", "run", "--db", db, "--port", str(port),
               "--prefix", prefix, "--jsonl", "--ring-timeout", str(RING_S),
               "--redeliver-after", "0.2"] + list(args)
        self.proc = subprocess.Popen(cmd, cwd=paths.ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     env=dict(os.environ, **(env or {})))
        self.lines = Lines()
        self.err = []
        self.up = threading.Event()
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._errs, daemon=True).start()
        if not self.up.wait(20):
            raise AssertionError("service did not start: %s" % "".join(self.err))

    def _out(self):
        for raw in self.proc.stdout:
            self.lines.add(json.loads(raw))

    def _errs(self):
        for raw in self.proc.stderr:
            text = raw.decode(errors="replace")
            self.err.append(text)
            if "subscribed" in text:
                self.up.set()

    def wait_exit(self, timeout=10):
        return self.proc.wait(timeout)

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def service(broker, prefix, db):
    made = []

    def start(*args, env=None):
        s = Service(db, broker.port, prefix, *args, env=env)
        made.append(s)
        return s

    yield start
    for s in made:
        s.stop()


@pytest.fixture
def console():
    """console(rx, **WebConfig fields) -> a started WebServer, stopped after the test."""
    from monitor.web import WebConfig, WebServer
    made = []

    def start(rx, **config):
        web = WebServer(rx, WebConfig(**config)).start()
        made.append(web)
        return web
    yield start
    for web in made:
        web.stop()
