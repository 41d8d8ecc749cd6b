"""Shared test plumbing.

Firmware is tested under two interpreters. Modules named `dual_*.py` (in any
folder of host_tests) hold plain `test_*` functions written in the MicroPython
subset; each one is collected twice, as `name[cpython]` (run in this process)
and `name[micropython]` (run by the real host `micropython`, all of a module's
tests in one process).

`make test` runs the suite on several pytest-xdist workers: each worker starts
its own brokers and PostgreSQL (session fixtures), and a dual module runs
under micropython once for the whole run (its results shared by the workers).
`make test-fast` runs what is marked `fast`: every dual module and the
modules that declare `pytestmark = pytest.mark.fast` (pure code: no broker,
no server, no browser, nothing that waits on a real clock).
"""
import json
import subprocess

import pytest

from tools import paths


RUNTIMES = ("cpython", "micropython")


def micropython_bin():
    return paths.venv_tool("micropython")


def run_micropython(code, *extra_path, stdin=None, timeout=120):
    """Run `code` under the host micropython with the firmware on MICROPYPATH."""
    return subprocess.run([micropython_bin(), "-c", code], input=stdin, capture_output=True,
                          env=paths.micropython_env(*extra_path), timeout=timeout)


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """A real mosquitto on a free loopback port, for the whole run."""
    from tools.broker import Broker
    b = Broker(str(tmp_path_factory.mktemp("mosquitto")))
    b.start()
    yield b
    b.stop()


# Hubs the secure broker knows (a login and ACL entries each): the demo house's
# hub, the uplink tests' hub, and a neighbour to attack it.
SECURE_HUBS = ("demo-hub", "hub-test", "hub-b")


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory):
    """mosquitto as an install runs it: TLS with a private CA, a login per hub
    (SECURE_HUBS), the ACL, the packet size limit (monitor.broker_access)."""
    from tools.broker import Broker
    b = Broker(str(tmp_path_factory.mktemp("mosquitto-tls")), hubs=SECURE_HUBS)
    b.start()
    yield b
    b.stop()


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, DualItem):
            item.add_marker(pytest.mark.fast)


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".py" and file_path.name.startswith("dual_"):
        return DualModule.from_parent(parent, path=file_path)
    return None


class DualModule(pytest.File):
    def collect(self):
        import importlib.util
        spec = importlib.util.spec_from_file_location(self.path.stem, str(self.path))
        mod = importlib.util.module_from_spec(spec)
        # Its sibling helpers (fakes, consts) import by name: pytest.ini's
        # pythonpath lists the test folders.
        spec.loader.exec_module(mod)
        names = [n for n in sorted(vars(mod)) if n.startswith("test_") and callable(getattr(mod, n))]
        for name in names:
            for rt in RUNTIMES:
                yield DualItem.from_parent(self, name="%s[%s]" % (name, rt),
                                           func=getattr(mod, name), fname=name, runtime=rt)


class DualItem(pytest.Item):
    def __init__(self, *, func, fname, runtime, **kw):
        super().__init__(**kw)
        self.func = func
        self.fname = fname
        self.runtime = runtime

    def runtest(self):
        if self.runtime == "cpython":
            self.func()
            return
        results = self.parent.stash.get(_MP_RESULTS, None)
        if results is None:
            results = _shared_results(self.config, self.parent.path)
            self.parent.stash[_MP_RESULTS] = results
        if self.fname not in results:
            raise DualFailure("no result from micropython for %s:\n%s"
                              % (self.fname, results.get("__output__", "")))
        ok, detail = results[self.fname]
        if not ok:
            raise DualFailure(detail)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, DualFailure):
            return "under micropython:\n" + str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, self.name


class DualFailure(Exception):
    pass


_MP_RESULTS = pytest.StashKey()

_RUNNER = """
import sys, json, io
mod = __import__(%r)
for name in sorted(dir(mod)):
    if not name.startswith("test_"):
        continue
    try:
        getattr(mod, name)()
        print(json.dumps([name, True, ""]))
    except Exception as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        print(json.dumps([name, False, buf.getvalue()]))
"""


def _shared_results(config, path):
    """One micropython run of a dual module for the whole test run: xdist may
    still hand its items to two workers, so the first one to get here runs it
    under a lock and leaves the results for the others."""
    import fcntl
    base = config._tmp_path_factory.getbasetemp()
    if hasattr(config, "workerinput"):
        base = base.parent          # the run's folder, shared by its workers
    done = base / ("micropython-%s.json" % path.stem)
    with open(str(done) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return {k: tuple(v) if isinstance(v, list) else v
                    for k, v in json.loads(done.read_text()).items()}
        results = _run_module_under_micropython(path)
        done.write_text(json.dumps(results))
        return results


def _run_module_under_micropython(path):
    done = run_micropython(_RUNNER % path.stem, str(path.parent), timeout=600)
    out = done.stdout.decode(errors="replace")
    results = {"__output__": out + done.stderr.decode(errors="replace")}
    for line in out.splitlines():
        if line.startswith("["):
            name, ok, detail = json.loads(line)
            results[name] = (ok, detail)
    return results
